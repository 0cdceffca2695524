package pgwc;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request in flight: answered exactly once, by its result, its error,
 * or early by abort (its deadline passed, or the client sent cancel). An
 * abort cancels the statement the request runs (Statement.cancel, which
 * asks the server) and interrupts a wait for a pooled connection.
 */
final class Call {
    interface Answerer {
        void answer(Call c, ObjectNode result, ObjectNode error);
    }

    final long id;
    final String method;
    private final Answerer answerer;
    private final Executor executor;
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile Statement statement;
    private Thread waiter; // guarded by this
    /** timeout_ms (0: none) and the System.nanoTime it ends at. */
    long timeoutMs;
    long deadline;
    /** Objects this request created: dropped again if the answer comes too late. */
    final List<String> created = new ArrayList<>(1);

    Call(long id, String method, Answerer answerer, Executor executor) {
        this.id = id;
        this.method = method;
        this.answerer = answerer;
        this.executor = executor;
    }

    boolean done() {
        return done.get();
    }

    boolean succeed(ObjectNode result) {
        if (!done.compareAndSet(false, true)) {
            return false;
        }
        answerer.answer(this, result, null);
        return true;
    }

    boolean fail(ObjectNode error) {
        if (!done.compareAndSet(false, true)) {
            return false;
        }
        answerer.answer(this, null, error);
        return true;
    }

    /** Answers timeout now and stops the work behind the request, best effort. */
    boolean abort(String why) {
        if (!fail(Errors.error(Fail.TIMEOUT, "", why, null))) {
            return false;
        }
        Statement st = statement;
        if (st != null) {
            // Statement.cancel opens a connection to the server: not on the timer's thread.
            executor.execute(() -> {
                try {
                    st.cancel();
                } catch (SQLException | RuntimeException ignored) {
                    // best effort: the statement may have ended meanwhile
                }
            });
        }
        synchronized (this) {
            if (waiter != null) {
                waiter.interrupt();
            }
        }
        return true;
    }

    /** Marks st as the statement this request runs (null: none), for abort. */
    void running(Statement st) {
        statement = st;
        if (st != null && done.get()) {
            throw new Fail(Fail.TIMEOUT, "request " + id + " was cancelled before its statement ran");
        }
    }

    /** Runs a wait (for a pooled connection) that abort may interrupt. */
    <T> T waiting(Callable<T> wait) throws Exception {
        synchronized (this) {
            if (done.get()) {
                throw new Fail(Fail.TIMEOUT, "request " + id + " was cancelled before it got a connection");
            }
            waiter = Thread.currentThread();
        }
        try {
            return wait.call();
        } finally {
            synchronized (this) {
                waiter = null;
            }
            // An interrupt meant for this wait must not hit the thread's next task.
            Thread.interrupted();
        }
    }
}
