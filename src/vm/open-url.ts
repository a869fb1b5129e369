// Sends a link to a running VM: one line on the host end of its virtio-serial
// port org.ffvm.open (see src/qemu/args.ts), which the guest opens in the browser.

import { createConnection } from "node:net";

/** How long the guest may take to read a link, in milliseconds. */
export const defaultOpenTimeoutMs = 15_000;

/** Raised when a link could not be handed to the VM; the message states why and what to do. */
export class OpenUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OpenUrlError";
  }
}

/** Returns the line written for a link: its href, which the URL parser makes ASCII, and a newline. */
export const formatOpenLine = (link: URL): string => {
  const href = link.href;
  // href has a punycode host and a percent-encoded path, query and fragment,
  // so anything else here means the URL did not come from the parser.
  if (!/^[\u0021-\u007e]+$/.test(href)) throw new OpenUrlError(`URL ${JSON.stringify(href)} has characters that cannot go on the open port`);
  if (link.protocol !== "http:" && link.protocol !== "https:") throw new OpenUrlError(`URL ${href} is not http or https`);
  return `${href}\n`;
};

/**
 * Writes the link to the VM's open socket and waits until QEMU has passed it
 * to the guest. QEMU reads from the socket only while the guest has the port
 * open, and closes the connection once it has read up to the end the writer
 * shut down, so the close confirms delivery.
 */
export const sendUrl = (socketPath: string, link: URL, timeoutMs = defaultOpenTimeoutMs): Promise<void> => {
  const line = formatOpenLine(link);
  return new Promise<void>((resolve, reject) => {
    const socket = createConnection(socketPath);
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const timer = setTimeout(() => {
      finish(new OpenUrlError(`the VM did not read the URL from ${socketPath} within ${timeoutMs / 1000} s; the guest may still be booting or may not listen on the org.ffvm.open port`));
    }, timeoutMs);
    socket.once("connect", () => {
      // Half-close: QEMU reads the line, then the end of the stream, then closes.
      socket.end(line);
    });
    socket.on("data", () => undefined);
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
        finish(new OpenUrlError(`the VM is not listening on ${socketPath} (${error.code}); it may have stopped`));
      } else {
        finish(new OpenUrlError(`writing the URL to ${socketPath} failed: ${error.message}`));
      }
    });
    socket.once("close", () => finish());
  });
};
