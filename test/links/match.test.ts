// Link routing: which site a URL opens in.

import { describe, expect, it } from "vitest";
import { InvalidLinkError, maxLinkLength, parseHostPattern, parseLink, routeLink, type RoutableSite } from "../../src/links/match.js";

const sites: RoutableSite[] = [
  { name: "github", url: "https://github.com/", match: ["*.github.com", "githubusercontent.com", "*.githubusercontent.com"] },
  { name: "gist", url: "https://gist.github.com/" },
  { name: "bank", url: "https://bank.example/login" },
  { name: "devserver", url: "http://localhost:3000/" },
  { name: "admin", url: "https://admin.example/", match: ["intranet.example:8443"] },
  { name: "books", url: "https://shop.example/", match: ["bücher.example"] },
  { name: "loopback", url: "http://127.0.0.1:9000/", match: ["[::1]:8080"] },
];

const route = (link: string, list: RoutableSite[] = sites): string => {
  const target = routeLink(parseLink(link), list);
  return target.kind === "site" ? target.site : "disposable";
};

describe("routeLink hosts", () => {
  it.each([
    ["https://github.com/nixos/nixpkgs", "github"],
    ["http://github.com/", "github"],
    ["https://api.github.com/repos", "github"],
    ["https://a.b.c.github.com/", "github"],
    ["https://raw.githubusercontent.com/x", "github"],
    ["https://githubusercontent.com/", "github"],
    ["https://bank.example/", "bank"],
    ["https://bank.example/other/page?x=1#top", "bank"],
  ])("%s opens in %s", (link, site) => {
    expect(route(link)).toBe(site);
  });

  it.each([
    "https://www.bank.example/",
    "https://evilgithub.com/",
    "https://github.com.evil.example/",
    "https://example.org/",
    "https://bank.example.evil.example/",
  ])("%s opens in a disposable VM", (link) => {
    expect(route(link)).toBe("disposable");
  });

  it("returns the pattern that matched", () => {
    expect(routeLink(parseLink("https://api.github.com/"), sites)).toEqual({ kind: "site", site: "github", pattern: "*.github.com" });
    expect(routeLink(parseLink("https://github.com/"), sites)).toEqual({ kind: "site", site: "github", pattern: "github.com" });
  });

  it("routes every link to disposable without sites", () => {
    expect(route("https://github.com/", [])).toBe("disposable");
  });
});

describe("routeLink specificity", () => {
  it("prefers an exact host over a wildcard", () => {
    expect(route("https://gist.github.com/abc")).toBe("gist");
  });

  it("prefers the longer wildcard suffix", () => {
    const list: RoutableSite[] = [
      { name: "outer", url: "https://outer.example/", match: ["*.example.org"] },
      { name: "inner", url: "https://inner.example/", match: ["*.docs.example.org"] },
    ];
    expect(route("https://api.docs.example.org/", list)).toBe("inner");
    expect(route("https://www.example.org/", list)).toBe("outer");
  });

  it("prefers an explicit match entry over another site's url", () => {
    const list: RoutableSite[] = [
      { name: "personal", url: "https://github.com/me" },
      { name: "work", url: "https://github.com/orgs/work", match: ["github.com"] },
    ];
    expect(route("https://github.com/some/repo", list)).toBe("work");
  });

  it("breaks a tie by site name", () => {
    const list: RoutableSite[] = [
      { name: "zeta", url: "https://same.example/" },
      { name: "alpha", url: "https://same.example/other" },
    ];
    expect(route("https://same.example/", list)).toBe("alpha");
  });

  it("prefers a pattern with a port", () => {
    const list: RoutableSite[] = [
      { name: "any", url: "https://any.example/", match: ["localhost"] },
      { name: "app", url: "http://localhost:5173/" },
    ];
    expect(route("http://localhost:5173/page", list)).toBe("app");
    expect(route("http://localhost:8080/", list)).toBe("any");
  });
});

describe("routeLink ports", () => {
  it("matches a site url's explicit port only", () => {
    expect(route("http://localhost:3000/app")).toBe("devserver");
    expect(route("http://localhost:3001/")).toBe("disposable");
    expect(route("http://localhost/")).toBe("disposable");
  });

  it("matches any port for a url without one", () => {
    expect(route("https://github.com:8443/")).toBe("github");
    expect(route("https://bank.example:443/")).toBe("bank");
  });

  it("matches a pattern's port against the default port", () => {
    expect(route("https://intranet.example:8443/")).toBe("admin");
    expect(route("https://intranet.example/")).toBe("disposable");
    const list: RoutableSite[] = [{ name: "tls", url: "https://tls.example/", match: ["plain.example:443"] }];
    expect(route("https://plain.example/", list)).toBe("tls");
    expect(route("http://plain.example/", list)).toBe("disposable");
  });

  it("matches IP addresses in their normal form", () => {
    expect(route("http://127.0.0.1:9000/")).toBe("loopback");
    expect(route("http://0x7f.0.0.1:9000/")).toBe("loopback");
    expect(route("http://[0:0::1]:8080/")).toBe("loopback");
    expect(route("http://[::1]:8081/")).toBe("disposable");
  });
});

describe("routeLink normalisation", () => {
  it("compares hosts case-insensitively", () => {
    expect(route("HTTPS://GitHub.COM/NixOS")).toBe("github");
    expect(route("https://API.GITHUB.COM/")).toBe("github");
  });

  it("ignores a trailing dot", () => {
    expect(route("https://github.com./")).toBe("github");
    expect(route("https://api.github.com./")).toBe("github");
    expect(route("https://bank.example../")).toBe("disposable");
  });

  it("treats IDN in unicode and punycode alike", () => {
    expect(route("https://bücher.example/")).toBe("books");
    expect(route("https://BÜCHER.example/")).toBe("books");
    expect(route("https://xn--bcher-kva.example/")).toBe("books");
    const list: RoutableSite[] = [{ name: "punycode", url: "https://xn--bcher-kva.example/" }];
    expect(route("https://bücher.example/", list)).toBe("punycode");
  });

  it("routes by the real host after userinfo", () => {
    expect(route("https://bank.example@evil.example/")).toBe("disposable");
    expect(route("https://bank.example:pass@evil.example/login")).toBe("disposable");
    expect(route("https://evil.example@bank.example/")).toBe("bank");
    expect(route("https://user%40bank.example@evil.example/")).toBe("disposable");
  });

  it("routes by the host the browser uses for backslashes", () => {
    // For http and https, the URL standard reads "\" as "/".
    expect(route("https://evil.example\\@bank.example/")).toBe("disposable");
    expect(route("https://bank.example\\evil.example/")).toBe("bank");
  });
});

describe("parseLink", () => {
  it.each([
    ["javascript:alert(1)", /scheme "javascript" is not supported/],
    ["file:///etc/passwd", /scheme "file" is not supported/],
    ["data:text/html,hi", /scheme "data" is not supported/],
    ["ftp://example.org/", /scheme "ftp" is not supported/],
    ["github.com/nixos", /invalid URL/],
    ["https://", /invalid URL/],
    ["https://example.org/\nhttps://evil.example/", /control character \\x0a at offset 20/],
    ["https://example.org/\u001b[31m", /control character \\x1b/],
    ["https://example.org/\u0085", /control character \\x85/],
    ["\thttps://example.org/", /control character \\x09 at offset 0/],
  ])("rejects %j", (text, message) => {
    expect(() => parseLink(text)).toThrow(InvalidLinkError);
    expect(() => parseLink(text)).toThrow(message);
  });

  it("rejects a link over the length limit", () => {
    const long = `https://example.org/${"a".repeat(maxLinkLength)}`;
    expect(() => parseLink(long)).toThrow(/more than the limit of 65536/);
  });

  it("returns the parsed URL", () => {
    expect(parseLink("https://Example.org/a b?q=ü").href).toBe("https://example.org/a%20b?q=%C3%BC");
  });
});

describe("parseHostPattern", () => {
  it.each([
    ["github.com", { host: "github.com", wildcard: false }],
    ["*.github.com", { host: "github.com", wildcard: true }],
    ["GitHub.COM.", { host: "github.com", wildcard: false }],
    ["bücher.example", { host: "xn--bcher-kva.example", wildcard: false }],
    ["*.bücher.example:8443", { host: "xn--bcher-kva.example", wildcard: true, port: 8443 }],
    ["localhost:3000", { host: "localhost", wildcard: false, port: 3000 }],
    ["[::1]:8080", { host: "[::1]", wildcard: false, port: 8080 }],
    ["10.0.0.1", { host: "10.0.0.1", wildcard: false }],
  ])("parses %j", (text, expected) => {
    expect(parseHostPattern(text)).toEqual(expected);
  });

  it.each([
    ["https://github.com", /without scheme/],
    ["github.com/nixos", /without scheme, path/],
    ["user@github.com", /user name/],
    ["git hub.com", /spaces/],
    ["*", /\* only as its whole first label/],
    ["*github.com", /\* only as its whole first label/],
    ["api.*.github.com", /\* only as its whole first label/],
    ["**.github.com", /\* only as its whole first label/],
    ["*.10.0.0.1", /IP address/],
    ["*.[::1]", /IP address/],
    ["github.com:0", /port 0/],
    ["github.com:70000", /port 70000/],
    ["github.com:", /not a host pattern/],
    ["", /not a host pattern/],
    ["exa%mple.com", /not a valid host name/],
  ])("rejects %j", (text, message) => {
    const parsed = parseHostPattern(text);
    expect(parsed).toHaveProperty("error");
    expect((parsed as { error: string }).error).toMatch(message);
  });
});
