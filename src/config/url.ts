// The rule for a site's url: an absolute http or https URL with a host.

/** Returns why url cannot be a site's address, or undefined when it can. */
export const describeUrlProblem = (url: string): string | undefined => {
  if (url.trim() === "") return "is empty";
  // A scheme is letters, digits, +, - and . after a letter (RFC 3986, section
  // 3.1). "example.org:8080" matches too, so a number after the colon means
  // the text is a host and port without a scheme.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):(?!\d)/.exec(url)?.[1];
  if (scheme === undefined) return "has no scheme";
  if (!/^https?$/i.test(scheme)) return `has the scheme ${scheme.toLowerCase()}:, but only http: and https: are allowed`;
  // The host sits between "//" and the next /, ? or #, after any user@ and
  // before any :port. The URL parser would read "https:///path" as the host
  // "path", so the check is made on the text.
  const rest = url.slice(scheme.length + 1);
  const authority = rest.startsWith("//") ? rest.slice(2).split(/[/?#]/)[0]! : "";
  const host = authority.slice(authority.lastIndexOf("@") + 1).replace(/:\d*$/, "");
  if (host === "") return "has no host";
  return URL.canParse(url) ? undefined : "is not a valid URL";
};

/** Returns what to write instead of a url that describeUrlProblem rejects. */
export const suggestUrlFix = (url: string): string => {
  const trimmed = url.trim();
  if (trimmed !== "" && !/^[A-Za-z][A-Za-z0-9+.-]*:(?!\d)/.test(trimmed) && !trimmed.startsWith("/")) {
    return `write an http or https URL with a host, such as ${JSON.stringify(`https://${trimmed}`)}`;
  }
  return 'write an http or https URL with a host, such as "https://example.org/"';
};
