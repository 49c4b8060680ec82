import { createServer, connect, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { TurnSlicer } from "../../src/lib/turns.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("TurnSlicer", () => {
  it("lets callers go on one at a time while the slice lasts, the rest at a later turn, in order", async () => {
    let clock = 0;
    const slicer = new TurnSlicer(5, () => clock);
    const order: string[] = [];
    // All ask before any works, as the resolvers under a list do; each one's work takes 3 ms.
    const waits = ["a", "b", "c", "d", "e"].map((name) => {
      const wait = slicer.pause();
      expect(wait).toBeInstanceOf(Promise);
      return wait!.then(() => {
        order.push(name);
        clock += 3;
      });
    });
    expect(slicer.waitingCount).toBe(5);
    // This turn: "a" (3 ms), then "b" (6 ms: the slice of 5 is spent); microtasks alone never reach "c".
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(order).toEqual(["a", "b"]);
    expect(slicer.waitingCount).toBe(3);
    // The next turn, a new slice: "c" and "d"; then "e" one turn later.
    await nextTurn();
    expect(order).toEqual(["a", "b", "c", "d"]);
    await nextTurn();
    await Promise.all(waits);
    expect(order).toEqual(["a", "b", "c", "d", "e"]);
    expect(slicer.waitingCount).toBe(0);
  });

  it("starts a fresh slice at a later turn, and is off with a slice of 0", async () => {
    let clock = 0;
    const slicer = new TurnSlicer(5, () => clock);
    await slicer.pause();
    clock = 100; // long after the first slice, at a new turn: the caller goes on in this one
    await nextTurn();
    let went = false;
    void slicer.pause()!.then(() => (went = true));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(went).toBe(true);
    const off = new TurnSlicer(0, () => clock);
    expect(off.pause()).toBeUndefined();
  });

  it("serves a socket between the slices of a burst of work (real time, real I/O)", async () => {
    const server = createServer((socket) => socket.on("data", () => socket.end("pong")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const slicer = new TurnSlicer(2);
    const events: string[] = [];
    const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
    await new Promise<void>((resolve) => client.once("connect", resolve));
    const answered = new Promise<void>((resolve) =>
      client.once("data", () => {
        events.push("socket");
        resolve();
      }),
    );
    client.write("ping");
    // 400 pieces of 1 ms of busy work each, all asking to go on at once (as resolvers under a large list do).
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const pieces = Array.from({ length: 400 }, async (_, i) => {
      await slicer.pause();
      busy(1);
      if (i === 399) events.push("last piece");
    });
    await Promise.all([...pieces, answered]);
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // Without slices the 400 ms of work would run before the answer is read; with them the socket comes first.
    expect(events).toEqual(["socket", "last piece"]);
  });
});
