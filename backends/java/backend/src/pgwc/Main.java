package pgwc;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** java -cp … pgwc.Main [--listen HOST:PORT]: serves PROTOCOL.md. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws IOException {
        String listen = "0.0.0.0:7687";
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--listen") && i + 1 < args.length) {
                listen = args[++i];
            } else if (args[i].startsWith("--listen=")) {
                listen = args[i].substring("--listen=".length());
            } else {
                System.err.println("usage: pgwc.Main [--listen HOST:PORT]");
                System.exit(2);
            }
        }
        Server s = Server.start(listen);
        System.out.println("pgwire-conformance java backend: protocol " + Session.PROTOCOL_VERSION + " listening on " + listen);
        System.out.flush();
        s.acceptLoop();
    }

    /** The listening socket and the threads every session shares. */
    static final class Server {
        final ServerSocket socket;
        final ExecutorService executor = Executors.newCachedThreadPool(daemons("pgwc-worker"));
        final Watchdog watchdog = new Watchdog();

        private Server(ServerSocket socket) {
            this.socket = socket;
        }

        static Server start(String listen) throws IOException {
            int colon = listen.lastIndexOf(':');
            String host = colon > 0 ? listen.substring(0, colon) : "0.0.0.0";
            int port = Integer.parseInt(listen.substring(colon + 1));
            ServerSocket ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getByName(host), port), 64);
            return new Server(ss);
        }

        int port() {
            return socket.getLocalPort();
        }

        void acceptLoop() throws IOException {
            for (;;) {
                Socket client;
                try {
                    client = socket.accept();
                } catch (IOException e) {
                    if (socket.isClosed()) {
                        return;
                    }
                    throw e;
                }
                Thread t = new Thread(new Session(client, executor, watchdog), "pgwc-session-" + client.getRemoteSocketAddress());
                t.setDaemon(true);
                t.start();
            }
        }

        void close() throws IOException {
            socket.close();
        }
    }

    static ThreadFactory daemons(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
