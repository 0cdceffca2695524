package pgwc;

/**
 * A request that fails with one of the protocol's error categories
 * (PROTOCOL.md §2) for a reason the backend itself found: a malformed
 * request, an unknown object, a deadline, something the adapter cannot do.
 */
final class Fail extends RuntimeException {
    private static final long serialVersionUID = 1L;

    static final String PROTOCOL = "protocol";
    static final String MISUSE = "misuse";
    static final String TIMEOUT = "timeout";
    static final String UNSUPPORTED = "unsupported";
    static final String CONNECTION = "connection";

    final String category;

    Fail(String category, String message) {
        super(message, null, false, false);
        this.category = category;
    }

    static Fail protocol(String message) {
        return new Fail(PROTOCOL, message);
    }

    static Fail misuse(String message) {
        return new Fail(MISUSE, message);
    }
}
