/**
 * A broker thread for the daemon. It serves the brokers of several runs at
 * once: one synchronous poll over all their listeners (ffi's
 * ll_broker_next_any), so the hot path stays on this thread without a
 * hop, and undeclared opens are still answered in C. A new run's job
 * arrives as a message; the pool then writes to this thread's eventfd,
 * which wakes the poll so the message can be read.
 *
 * @module
 */

/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

import { closeBrokerFds, openBroker, type Served } from "../../sandbox/run.ts";
import type { BrokerJob } from "./broker_pool.ts";
import { teeAudit } from "./audit.ts";
import { auditToFd } from "../../audit/audit.ts";
import {
  nextNotificationOfAny,
  preloadBrokerSymbols,
  watchRemoteReads,
} from "../../syscalls/seccomp_notify.ts";
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EFD_SEMAPHORE,
  eventfd,
} from "../../syscalls/epoll.ts";
import {
  type Ids,
  setThreadFsIds,
  threadGroups,
} from "../../syscalls/identity.ts";

preloadBrokerSymbols(); // now, not on the first run's hot path

/** One wake per job posted: the poll stays readable until each is read. */
const wake = eventfd(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);

/**
 * Sets this thread's filesystem identity (fsuid/fsgid leave the real ids,
 * which the broker needs to read the sandbox's memory, alone).
 */
const actAs = setThreadFsIds;

const own: Ids = {
  uid: Deno.uid() ?? 0,
  gid: Deno.gid() ?? 0,
  groups: threadGroups(),
};
let acting: Ids = own;

function become(ids: Ids) {
  if (ids === acting) return;
  actAs(ids);
  acting = ids;
}

interface Session {
  key: number;
  broker: Served;
  ids: Ids;
}

const sessions: Session[] = [];
const pending: BrokerJob[] = [];
let wakes = 0;
let received = 0;
let arrived: (() => void) | undefined;
let looping = false;

function finish(s: Session, error?: unknown) {
  sessions.splice(sessions.indexOf(s), 1);
  try {
    s.broker.close();
  } finally {
    closeBrokerFds({
      listenerFd: s.broker.listener.fd,
      helperFd: s.broker.helperFd,
    });
  }
  self.postMessage({
    key: s.key,
    ok: error === undefined,
    message: error === undefined ? undefined : (error as Error).message,
    ...("log" in s.broker ? { accesses: s.broker.log() } : {}),
  });
}

async function start(job: BrokerJob) {
  const audit = teeAudit(job.auditFds.map(auditToFd), job.jobId);
  const ids = job.ids ?? own;
  try {
    become(ids);
    const broker = await openBroker(
      job.broker,
      job.arch,
      job.fds,
      audit,
      job.observe,
    );
    sessions.push({ key: job.key, broker, ids });
  } catch (e) {
    self.postMessage({
      key: job.key,
      ok: false,
      message: (e as Error).message,
    });
  }
}

async function loop() {
  looping = true;
  const which = new Int32Array(1);
  try {
    while (pending.length || sessions.length) {
      for (const job of pending.splice(0)) await start(job);
      if (!sessions.length) continue;
      const states = BigUint64Array.from(
        sessions.map((s) => s.broker.listener.addresses.state),
      );
      const notifs = BigUint64Array.from(
        sessions.map((s) => s.broker.listener.addresses.notif),
      );
      const r = nextNotificationOfAny(states, wake, notifs, which);
      if (r === 2) {
        // A job was posted: wait until its message is here.
        wakes++;
        if (received < wakes) {
          await new Promise<void>((resolve) => arrived = resolve);
        }
        continue;
      }
      if (r < 0) {
        const e = new Error(`broker poll failed: errno ${-r}`);
        for (const s of [...sessions]) finish(s, e);
        continue;
      }
      const s = sessions[which[0]];
      if (r === 0) {
        finish(s);
        continue;
      }
      try {
        become(s.ids);
        s.broker.handle(s.broker.listener.received());
      } catch (e) {
        try {
          s.broker.fail(e);
        } catch (failure) {
          finish(s, failure);
        }
      }
    }
  } finally {
    looping = false;
  }
}

self.onmessage = (e: MessageEvent<BrokerJob>) => {
  received++;
  pending.push(e.data);
  arrived?.();
  arrived = undefined;
  if (!looping) loop();
};

/**
 * This thread's slot in the remote-read watchdog (ffi/watchdog.c); without
 * one (every slot taken) its reads are not watched, and it still serves.
 */
const slot = (() => {
  try {
    return watchRemoteReads();
  } catch {
    return undefined;
  }
})();

self.postMessage({ ready: wake, slot });
