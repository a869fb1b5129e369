// The rule for site and VPN names, which become file names, QEMU -name values
// and guest hostnames (RFC 1123 labels, lower case).

const namePattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const maxNameLength = 63;

/** Returns why name cannot be a site or VPN name, or undefined when it can. */
export const describeNameProblem = (name: string): string | undefined => {
  if (namePattern.test(name)) return undefined;
  if (name === "") return "is empty";
  if (name.length > maxNameLength) return `is ${name.length} characters long, more than ${maxNameLength}`;
  const other = /[^a-zA-Z0-9-]/.exec(name)?.[0];
  if (other !== undefined) return `contains ${JSON.stringify(other)}`;
  if (/[A-Z]/.test(name)) return "contains upper-case letters";
  if (name.startsWith("-")) return "starts with a dash";
  return "ends with a dash";
};

/** Returns a valid name close to name, or undefined when none is left. */
export const suggestName = (name: string): string | undefined => {
  const candidate = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, maxNameLength)
    .replace(/-+$/, "");
  return namePattern.test(candidate) ? candidate : undefined;
};
