//! A hostile HTTP server on loopback, for what a real service should never do and this
//! client must survive anyway: never answer, close after reading, stream without end, send
//! escape sequences. Each accepted connection gets the next behaviour of a script (the last
//! repeats).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with one connection.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Reads the request and never answers (the connection stays open).
    Silent,
    /// Reads the request and closes the connection without a byte.
    CloseAfterRequest,
    /// Reads the request and answers with these bytes, then closes.
    Respond(Vec<u8>),
    /// Answers `status` with these headers, then streams `chunk` forever (chunked encoding).
    Endless {
        status: u16,
        headers: Vec<(String, String)>,
        chunk: Vec<u8>,
    },
}

/// A complete HTTP/1.1 answer with a body.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Behaviour {
    let mut text = format!(
        "HTTP/1.1 {status} Whatever\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    Behaviour::Respond(bytes)
}

/// A running hostile server.
#[derive(Debug)]
pub struct Hostile {
    pub url: String,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Hostile {
    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the server with `script`: connection n gets `script[n]` (the last one repeats).
pub async fn start(script: Vec<Behaviour>) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let behaviour = script[n.min(script.len() - 1)].clone();
            tokio::spawn(async move {
                read_request(&mut socket).await;
                match behaviour {
                    Behaviour::Silent => {
                        // Hold the connection open, answering nothing.
                        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                    }
                    Behaviour::CloseAfterRequest => {}
                    Behaviour::Respond(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    Behaviour::Endless {
                        status,
                        headers,
                        chunk,
                    } => {
                        let mut head =
                            format!("HTTP/1.1 {status} Whatever\r\ntransfer-encoding: chunked\r\n");
                        for (name, value) in headers {
                            head.push_str(&format!("{name}: {value}\r\n"));
                        }
                        head.push_str("\r\n");
                        if socket.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let framed = [
                            format!("{:x}\r\n", chunk.len()).into_bytes(),
                            chunk,
                            b"\r\n".to_vec(),
                        ]
                        .concat();
                        while socket.write_all(&framed).await.is_ok() {}
                    }
                }
            });
        }
    });
    Hostile {
        url,
        connections,
        task,
    }
}

/// Reads up to the end of the request head and a small body (enough for these tests).
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(
            std::time::Duration::from_millis(300),
            socket.read(&mut buffer),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) => {
                seen.extend_from_slice(&buffer[..n]);
                if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + length {
                        return;
                    }
                }
            }
            // A client that sent its whole request and waits.
            Err(_) => return,
        }
    }
}
