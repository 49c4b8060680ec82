/**
 * Whether an IP address is a public one (issue 17, webhook URL safety): the graph POSTs to URLs its callers give,
 * so a URL pointing into the deployment's own network (cloud metadata at 169.254.169.254, a Redis on 10.x, the
 * host's loopback) must be refused, both when the URL is registered and when each delivery connects (DNS changes).
 *
 * Refused: unspecified, loopback, private (RFC 1918, IPv6 unique local), link-local, CGNAT (100.64/10), multicast,
 * and the reserved / documentation / benchmarking ranges (RFC 6890), in IPv4 and IPv6. An IPv6 address that
 * carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) is judged by the IPv4 address it carries.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

type Rule = [network: string, prefix: number, what: string];

const V4: Rule[] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "CGNAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "documentation"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];
const V6: Rule[] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["100::", 64, "discard"],
  ["2001:db8::", 32, "documentation"],
  ["fc00::", 7, "private"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "site-local"],
  ["ff00::", 8, "multicast"],
];

const compile = (rules: Rule[], type: "ipv4" | "ipv6") =>
  rules.map(([network, prefix, what]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return { list, what, type };
  });
const V4_LISTS = compile(V4, "ipv4");
const V6_LISTS = compile(V6, "ipv6");

/** The eight 16-bit groups of an IPv6 address (zone id dropped, a trailing dotted quad folded in). */
function groups(v6: string): number[] {
  let text = v6.split("%")[0]!.toLowerCase();
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? (text.split("::") as [string, string]) : [text, undefined];
  const part = (s: string | undefined) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const h = part(head);
  const t = part(tail);
  return tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

const v4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), or null. */
function embeddedV4(g: number[]): string | null {
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(5) && g[5] === 0xffff) return v4Of(g[6]!, g[7]!);
  if (zeros(6) && (g[6] !== 0 || g[7]! > 1)) return v4Of(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Of(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4Of(g[1]!, g[2]!);
  return null;
}

/**
 * What kind of non-public address `ip` is (`"private"`, `"loopback"`, …), or null when it is public (or loopback
 * and `allowLoopback`). A string that is no IP address is answered `"invalid"`.
 */
export function nonPublicAddress(ip: string, allowLoopback = false): string | null {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const family = isIP(bare.split("%")[0]!);
  if (family === 0) return "invalid";
  let what: string | undefined;
  if (family === 4) what = V4_LISTS.find((r) => r.list.check(bare, "ipv4"))?.what;
  else {
    const v4 = embeddedV4(groups(bare));
    if (v4 !== null) return nonPublicAddress(v4, allowLoopback);
    what = V6_LISTS.find((r) => r.list.check(bare.split("%")[0]!, "ipv6"))?.what;
  }
  if (what === undefined || (what === "loopback" && allowLoopback)) return null;
  return what;
}

/** The error a {@link publicOnlyLookup} gives for a name resolving to a non-public address. */
export const NON_PUBLIC_ADDRESS = "ENONPUBLICADDRESS";

/**
 * A `lookup` for `net.connect` / `http.request` / got's `dnsLookup`: resolves every address of the name with
 * `dns.lookup` and fails (code {@link NON_PUBLIC_ADDRESS}, before any connection) when one of them is not public.
 * `net.connect` calls no lookup for an IP literal: check those with {@link nonPublicAddress} before sending.
 */
export function publicOnlyLookup(allowLoopback = false): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const bad = addresses.find((a) => nonPublicAddress(a.address, allowLoopback) !== null);
      if (bad || addresses.length === 0) {
        const refused = Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: NON_PUBLIC_ADDRESS });
        return callback(refused, "", 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** The host of `url` without IPv6 brackets. */
const hostOf = (url: URL) => (url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname);

/** Why the host of `url`, when it is an IP literal, may not be connected to; null for a public one or a name. */
export function literalHostProblem(url: URL, allowLoopback = false): string | null {
  const host = hostOf(url);
  if (!isIP(host)) return null;
  const what = nonPublicAddress(host, allowLoopback);
  return what && `url is ${host}, a ${what} address: webhooks go to public addresses only`;
}

/**
 * Why the host of `url` may not be connected to, or null: an IP literal that is not public, or a name any of whose
 * addresses is not public (`dns.lookup`, all addresses). A name that does not resolve now is not refused here: the
 * connection's own lookup judges it when it is made.
 */
export async function hostProblem(url: URL, allowLoopback = false): Promise<string | null> {
  const host = hostOf(url);
  if (isIP(host)) return literalHostProblem(url, allowLoopback);
  const addresses = await new Promise<LookupAddress[]>((ok) => dnsLookup(host, { all: true }, (error, a) => ok(error ? [] : a)));
  for (const a of addresses) {
    const what = nonPublicAddress(a.address, allowLoopback);
    if (what) return `url resolves to ${a.address}, a ${what} address: webhooks go to public addresses only`;
  }
  return null;
}
