// Routing of links to sites. Pure: no I/O. Hosts are compared in the form
// the WHATWG URL parser gives them (lower case, IDN as punycode), so
// `https://BÜCHER.example./` and `https://xn--bcher-kva.example/` are one host.

/** Links longer than this are rejected, in UTF-16 code units of the text given. */
export const maxLinkLength = 65_536;

/** A parsed `match:` entry or the host of a site's `url`. */
export interface HostPattern {
  /** Host as the URL parser returns it, without a trailing dot. */
  host: string;
  /** For `*.host`: every subdomain of host, at any depth, but not host itself. */
  wildcard: boolean;
  /** Only URLs on this port match; undefined matches every port. */
  port?: number;
}

/** The fields of a site that routing reads. */
export interface RoutableSite {
  name: string;
  url: string;
  /** Normalised `match:` patterns. */
  match?: readonly string[];
}

export type LinkTarget =
  | { kind: "site"; site: string; /** The pattern that matched, such as `*.github.com` or `github.com`. */ pattern: string }
  | { kind: "disposable" };

/** Raised for text that is not an http or https URL that ffvm may open. */
export class InvalidLinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidLinkError";
  }
}

const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Parses a link given on the command line. Rejects control characters instead
 * of letting the URL parser drop them, because a newline would split the link
 * into two lines on the guest's open port.
 */
export const parseLink = (text: string): URL => {
  if (text.length > maxLinkLength) throw new InvalidLinkError(`URL is ${text.length} characters long, more than the limit of ${maxLinkLength}`);
  const control = controlCharacter.exec(text);
  if (control !== null) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, "0");
    throw new InvalidLinkError(`URL contains the control character \\x${code} at offset ${control.index}; remove it`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidLinkError(`invalid URL ${JSON.stringify(text)}; write an http or https URL such as https://example.org/`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidLinkError(`URL scheme ${JSON.stringify(url.protocol.slice(0, -1))} is not supported; ffvm opens only http and https URLs`);
  }
  if (url.hostname === "") throw new InvalidLinkError(`URL ${JSON.stringify(text)} has no host`);
  return url;
};

/** Returns the URL's host without its trailing dot, as patterns store it. */
const normaliseHost = (hostname: string): string => hostname.replace(/\.$/, "");

const isIpAddress = (host: string): boolean => host.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(host);

const patternSyntax = /^(?<wildcard>\*\.)?(?<host>\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(?<port>\d{1,5}))?$/;

/**
 * Parses a `match:` entry: `host`, `*.host`, either with an optional `:port`.
 * Returns the pattern or a message saying what is wrong with it.
 */
export const parseHostPattern = (text: string): HostPattern | { error: string } => {
  if (/[\s/@?#\\]/.test(text) || text.includes("://")) {
    return { error: "is not a host pattern: write a host name only, without scheme, path, user name or spaces" };
  }
  const parts = patternSyntax.exec(text)?.groups;
  if (parts === undefined || parts.host === undefined) return { error: "is not a host pattern" };
  if (parts.host.includes("*")) return { error: "may use * only as its whole first label, as in *.example.org" };
  let host: string;
  try {
    host = normaliseHost(new URL(`http://${parts.host}/`).hostname);
  } catch {
    return { error: "is not a valid host name" };
  }
  if (host === "") return { error: "has an empty host name" };
  const wildcard = parts.wildcard !== undefined;
  if (wildcard && isIpAddress(host)) return { error: "puts *. before an IP address, which has no subdomains" };
  const pattern: HostPattern = { host, wildcard };
  if (parts.port !== undefined) {
    const port = Number(parts.port);
    if (port < 1 || port > 65_535) return { error: `has port ${port}, outside 1 to 65535` };
    pattern.port = port;
  }
  return pattern;
};

/** Formats a pattern the way sites.yaml writes it, with the host normalised. */
export const formatHostPattern = (pattern: HostPattern): string =>
  `${pattern.wildcard ? "*." : ""}${pattern.host}${pattern.port === undefined ? "" : `:${pattern.port}`}`;

/**
 * Returns the pattern a site's own `url` implies: its host, and its port only
 * when the URL names one that is not the scheme's default.
 */
export const patternOfSiteUrl = (siteUrl: string): HostPattern | undefined => {
  let url: URL;
  try {
    url = new URL(siteUrl);
  } catch {
    return undefined;
  }
  const pattern: HostPattern = { host: normaliseHost(url.hostname), wildcard: false };
  if (url.port !== "") pattern.port = Number(url.port);
  return pattern;
};

const effectivePort = (url: URL): number => {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
};

const matches = (pattern: HostPattern, host: string, port: number): boolean => {
  if (pattern.port !== undefined && pattern.port !== port) return false;
  return pattern.wildcard ? host.endsWith(`.${pattern.host}`) : host === pattern.host;
};

// Ranks a candidate match, most specific first. An exact host comes before a
// wildcard, and a longer wildcard suffix before a shorter one. Then a pattern
// with a port comes before one without, and an explicit match: entry before
// the host of a site's url. routeLink breaks remaining ties by site name.
const specificity = (pattern: HostPattern, explicit: boolean): number[] => [
  pattern.wildcard ? 0 : 1,
  pattern.host.split(".").length,
  pattern.port === undefined ? 0 : 1,
  explicit ? 1 : 0,
];

const compareSpecificity = (a: number[], b: number[]): number => {
  for (let index = 0; index < a.length; index++) {
    const difference = (b[index] ?? 0) - (a[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
};

// Orders site names by UTF-16 code units, as the site list of the desired state is sorted.
const compareNames = (a: string, b: string): number => {
  if (a === b) return 0;
  return a < b ? -1 : 1;
};

/**
 * Returns the site a link belongs to: every site matches the host of its own
 * `url` and its `match:` patterns, and the most specific match wins (see
 * specificity above). A link that matches no site goes to a disposable VM.
 */
export const routeLink = (link: URL, sites: readonly RoutableSite[]): LinkTarget => {
  const host = normaliseHost(link.hostname);
  const port = effectivePort(link);
  const candidates: { site: string; pattern: HostPattern; rank: number[] }[] = [];
  for (const site of sites) {
    const own = patternOfSiteUrl(site.url);
    if (own !== undefined && matches(own, host, port)) candidates.push({ site: site.name, pattern: own, rank: specificity(own, false) });
    for (const text of site.match ?? []) {
      const parsed = parseHostPattern(text);
      if ("error" in parsed || !matches(parsed, host, port)) continue;
      candidates.push({ site: site.name, pattern: parsed, rank: specificity(parsed, true) });
    }
  }
  candidates.sort((a, b) => compareSpecificity(a.rank, b.rank) || compareNames(a.site, b.site));
  const best = candidates[0];
  if (best === undefined) return { kind: "disposable" };
  return { kind: "site", site: best.site, pattern: formatHostPattern(best.pattern) };
};
