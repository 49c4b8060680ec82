/**
 * Events as the vendor would produce them: an entry at the front of a residence's open-door or call history
 * (`get_akuvox_open_door_history` / `get_akuvox_call_history`, 001_5b8afc7a7400404b.txt, newest first), or a
 * device's `online` flag changed (`get_akuvox_device_list`), or a visitor temp key used at a door (an entry at the
 * front of its `get_visitor_temp_key_history`, 000_ea6fedeba34c96fa.txt, newest first). Used by the control route `POST /__sim/events`, by
 * tests, and by demo mode's simulated residents.
 */
import { findResidence, residenceAccounts, residenceDevices, type AkubelaState } from "./state.js";
import { formatDateTime } from "./time.js";

export type SimEventSpec =
  | { type: "open_door"; residenceId: string; success?: boolean; method?: string; deviceName?: string; accountName?: string }
  | { type: "call"; residenceId: string; callerName?: string; callerSip?: string }
  | { type: "device_status"; mac: string; online: boolean }
  | { type: "visitor_key"; visitorTempKeyId: string; success?: boolean; deviceName?: string };

export class SimEventError extends Error {}

/** Applies one event to the state at `now`; answers what was recorded. */
export function injectSimEvent(state: AkubelaState, spec: SimEventSpec, now: Date): Record<string, unknown> {
  if (spec.type === "device_status") {
    for (const project of state.projects.values()) {
      for (const d of project.devices.values()) {
        if (d.mac === String(spec.mac).toUpperCase()) {
          d.online = spec.online === true;
          return { mac: d.mac, online: d.online };
        }
      }
    }
    throw new SimEventError("no device with this mac");
  }
  if (spec.type === "visitor_key") {
    for (const project of state.projects.values()) {
      const key = project.visitor_temp_keys.get(String(spec.visitorTempKeyId));
      if (!key) continue;
      const record = {
        open_door_time: formatDateTime(now),
        building_name: key.building_name,
        device_name: spec.deviceName ?? "Door",
        account_name: key.visitor_temp_key_name,
        residence_no: key.residence_no,
        record_type: "open door",
        open_door_type: "temp key",
        number: key.visitor_temp_key_number,
        open_door: spec.success !== false,
        capture_thumbnail_url: "",
        capture_picture_url: "",
      };
      key.history.unshift(record);
      return { ...record, number: undefined };
    }
    throw new SimEventError("no visitor temp key with this visitorTempKeyId");
  }
  const found = findResidence(state, String(spec.residenceId));
  if (!found) throw new SimEventError("no residence with this residenceId");
  const { project, residence } = found;
  const devices = residenceDevices(project, residence);
  if (spec.type === "call") {
    const from = devices[0];
    const record = { call_name: spec.callerName ?? from?.device_name ?? "Door", call_sip: spec.callerSip ?? from?.sip ?? "", call_time: formatDateTime(now) };
    residence.call_history.unshift(record);
    return { ...record };
  }
  const member = residenceAccounts(project, residence.residence_id)[0];
  const record = {
    open_door: spec.success !== false,
    account_name: spec.accountName ?? (member ? `${member.first_name} ${member.last_name}` : residence.family_name),
    device_name: spec.deviceName ?? devices[0]?.device_name ?? "Door",
    capture_thumbnail_url: "",
    open_door_type: spec.method ?? "PIN",
    capture_picture_url: "",
    open_door_time: formatDateTime(now),
  };
  residence.open_door_history.unshift(record);
  return { ...record };
}

/** Demo mode: now and then a resident opens a door or a visitor calls. Answers the stop function. */
export function startSimulatedResidents(state: () => AkubelaState, everyMs: number): () => void {
  let n = 0;
  const timer = setInterval(() => {
    const projects = [...state().projects.values()];
    const project = projects[n % projects.length];
    const residences = project ? [...project.residences.values()] : [];
    const residence = residences[(n * 7) % Math.max(1, residences.length)];
    n++;
    if (!residence) return;
    const methods = ["PIN", "RF Card", "Face", "BLE"];
    injectSimEvent(state(), n % 3 === 0 ? { type: "call", residenceId: residence.residence_id } : { type: "open_door", residenceId: residence.residence_id, method: methods[n % methods.length] }, new Date());
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
