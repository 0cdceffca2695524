//! pgwc-rust-backend [--listen HOST:PORT]: serve PROTOCOL.md.

use std::io::Write;

fn main() {
    let mut listen = "0.0.0.0:7687".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or_else(|| usage("--listen needs HOST:PORT")),
            _ => match a.strip_prefix("--listen=") {
                Some(v) => listen = v.to_string(),
                None => usage(&format!("unknown argument {a:?}")),
            },
        }
    }
    // One thread: the work is waiting on sockets, and a single scheduler
    // keeps the timing of engine.bench free of cross-thread hand-offs.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("pgwc-rust-backend: listen on {listen}: {e}");
                std::process::exit(1);
            }
        };
        println!("pgwire-conformance rust backend: protocol {} listening on {listen}", backend::session::PROTOCOL_VERSION);
        let _ = std::io::stdout().flush();
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        loop {
            tokio::select! {
                acc = listener.accept() => match acc {
                    Ok((sock, _)) => {
                        let _ = sock.set_nodelay(true);
                        let (r, w) = sock.into_split();
                        tokio::spawn(backend::serve(r, w));
                    }
                    Err(e) => eprintln!("pgwc-rust-backend: accept: {e}"),
                },
                _ = term.recv() => std::process::exit(0),
                _ = tokio::signal::ctrl_c() => std::process::exit(0),
            }
        }
    });
}

fn usage(msg: &str) -> ! {
    eprintln!("pgwc-rust-backend: {msg}\nusage: pgwc-rust-backend [--listen HOST:PORT]");
    std::process::exit(2);
}
