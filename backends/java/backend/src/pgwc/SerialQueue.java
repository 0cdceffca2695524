package pgwc;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * Runs the tasks submitted to it one at a time, in submission order, on a
 * shared executor: the requests on one connection, transaction or cursor
 * (PROTOCOL.md §1), while requests on other objects run concurrently.
 */
final class SerialQueue {
    private final Executor executor;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private boolean running;

    SerialQueue(Executor executor) {
        this.executor = executor;
    }

    void submit(Runnable task) {
        synchronized (this) {
            tasks.add(task);
            if (running) {
                return;
            }
            running = true;
        }
        executor.execute(this::drain);
    }

    private void drain() {
        for (;;) {
            Runnable next;
            synchronized (this) {
                next = tasks.poll();
                if (next == null) {
                    running = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (RuntimeException | Error e) {
                // A task answers its own errors; nothing may stop the queue.
                e.printStackTrace();
            }
        }
    }
}
