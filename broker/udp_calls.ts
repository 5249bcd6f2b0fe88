/** The calls `[net] udp = "dns"` sends to the broker (broker/udp.ts). */
export const UDP_CALLS: readonly string[] = [
  "connect",
  "sendto",
  "sendmsg",
  "sendmmsg",
];
