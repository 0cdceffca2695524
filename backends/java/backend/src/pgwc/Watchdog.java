package pgwc;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Aborts requests whose timeout_ms passed. One thread ticks every TICK_MS
 * and scans the requests it watches: a timer per request would wake a
 * thread on every request (each new deadline is the earliest), a context
 * switch on the backend's one CPU that every timed query would pay.
 */
final class Watchdog {
    static final long TICK_MS = 20;

    private final Set<Call> watched = ConcurrentHashMap.newKeySet();

    Watchdog() {
        Thread t = new Thread(this::loop, "pgwc-watchdog");
        t.setDaemon(true);
        t.start();
    }

    void watch(Call c) {
        watched.add(c);
    }

    void unwatch(Call c) {
        watched.remove(c);
    }

    private void loop() {
        for (;;) {
            try {
                Thread.sleep(TICK_MS);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Call c : watched) {
                if (now - c.deadline >= 0) {
                    watched.remove(c);
                    c.abort("the request's deadline (timeout_ms " + c.timeoutMs + ") passed");
                }
            }
        }
    }
}
