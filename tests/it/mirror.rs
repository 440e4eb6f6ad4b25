//! A real HTTP mirror on 127.0.0.1 for tests, which can also misbehave: answer 404 or 500,
//! serve wrong bytes, drop the connection mid-file, stall, trickle, or send (or announce) far
//! too many bytes. It records every request. A `PUT` stores its body at the path (answered
//! 201), as WebDAV-style stores do.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server answers one path.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// Serve these bytes, honouring `Range`.
    Serve(Vec<u8>),
    /// Serve the bytes, but on the first request close the connection after this many bytes.
    DropAfter(Vec<u8>, usize),
    /// Answer with this HTTP status and no body.
    Status(u16),
    /// Accept the request and never answer (until the client hangs up).
    Stall,
    /// Send the headers and this many bytes, then go silent.
    StallAfter(Vec<u8>, usize),
    /// Wait this long, then serve the bytes (so that concurrent downloads overlap).
    Delayed(Vec<u8>, Duration),
    /// Answer 200 with this many zero bytes and no `Content-Length` (the body ends when the
    /// connection closes), as a hostile or broken server sending far more than it should.
    Flood(u64),
    /// Answer 200 announcing a `Content-Length` of this many bytes, then send zeros until the
    /// client hangs up.
    Announce(u64),
    /// Send the headers, then the bytes one at a time with this pause between them.
    Trickle(Vec<u8>, Duration),
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
}

/// The running server; it lives as long as the test.
pub struct Mirror {
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Behavior>>>,
    requests: Arc<Mutex<Vec<Request>>>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: Arc<Mutex<(usize, usize)>>,
}

impl Mirror {
    pub fn start() -> Mirror {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<HashMap<String, Behavior>>> = Arc::default();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let in_flight: Arc<Mutex<(usize, usize)>> = Arc::default();
        let (r, q, f) = (
            Arc::clone(&routes),
            Arc::clone(&requests),
            Arc::clone(&in_flight),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, q, f) = (Arc::clone(&r), Arc::clone(&q), Arc::clone(&f));
                std::thread::spawn(move || {
                    {
                        let mut count = f.lock().unwrap();
                        count.0 += 1;
                        count.1 = count.1.max(count.0);
                    }
                    handle(stream, &r, &q);
                    f.lock().unwrap().0 -= 1;
                });
            }
        });
        Mirror {
            port,
            routes,
            requests,
            in_flight,
        }
    }

    /// Sets how `path` (e.g. `/a/Python-3.99.1.tgz`) is answered.
    pub fn route(&self, path: &str, behavior: Behavior) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), behavior);
    }

    /// A URL template under `/<dir>/` (`http://127.0.0.1:P/<dir>/{file}`).
    pub fn template(&self, dir: &str) -> String {
        format!("http://127.0.0.1:{}/{dir}/{{file}}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The most connections it was answering at the same time.
    pub fn most_at_once(&self) -> usize {
        self.in_flight.lock().unwrap().1
    }
}

fn handle(
    stream: TcpStream,
    routes: &Mutex<HashMap<String, Behavior>>,
    requests: &Mutex<Vec<Request>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let method = line.split_whitespace().next().unwrap_or("GET").to_owned();
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut range = None;
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_owned());
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    requests.lock().unwrap().push(Request {
        method: method.clone(),
        path: path.clone(),
        range: range.clone(),
    });
    let mut stream = stream;
    if method == "PUT" {
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_ok() {
            routes.lock().unwrap().insert(path, Behavior::Serve(body));
            respond(&mut stream, 201, &[], None);
        }
        return;
    }
    let behavior = routes.lock().unwrap().get(&path).cloned();
    match behavior {
        None => respond(&mut stream, 404, &[], None),
        Some(Behavior::Status(code)) => respond(&mut stream, code, &[], None),
        Some(Behavior::Stall) => {
            // Until the client gives up: then this request no longer counts as in flight.
            let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
            let _ = stream.read(&mut [0; 1]);
        }
        Some(Behavior::StallAfter(body, n)) => {
            routes
                .lock()
                .unwrap()
                .insert(path, Behavior::Serve(body.clone()));
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..n]);
            let _ = stream.flush();
            std::thread::sleep(Duration::from_secs(120));
        }
        Some(Behavior::Serve(body)) => serve(&mut stream, &body, range.as_deref()),
        Some(Behavior::Flood(len)) => flood(&mut stream, len),
        Some(Behavior::Announce(len)) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n");
            let chunk = vec![0; 64 * 1024];
            let _ = stream.write_all(head.as_bytes());
            while stream.write_all(&chunk).is_ok() {}
        }
        Some(Behavior::Trickle(body, pause)) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            for byte in body {
                std::thread::sleep(pause);
                if stream.write_all(&[byte]).is_err() {
                    return;
                }
            }
        }
        Some(Behavior::Delayed(body, delay)) => {
            std::thread::sleep(delay);
            serve(&mut stream, &body, range.as_deref())
        }
        Some(Behavior::DropAfter(body, n)) => {
            // Later requests are served properly.
            routes
                .lock()
                .unwrap()
                .insert(path, Behavior::Serve(body.clone()));
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..n]);
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn serve(stream: &mut TcpStream, body: &[u8], range: Option<&str>) {
    let start = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match start {
        Some(start) if start >= body.len() => respond(stream, 416, &[], None),
        Some(start) => {
            let content_range = format!("bytes {start}-{}/{}", body.len() - 1, body.len());
            respond(stream, 206, &body[start..], Some(&content_range))
        }
        None => respond(stream, 200, body, None),
    }
}

/// Sends `len` zero bytes after headers without a length; stops when the client hangs up.
fn flood(stream: &mut TcpStream, len: u64) {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![0; 64 * 1024];
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min((len - sent) as usize);
        if stream.write_all(&chunk[..n]).is_err() {
            return;
        }
        sent += n as u64;
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

fn respond(stream: &mut TcpStream, code: u16, body: &[u8], content_range: Option<&str>) {
    let reason = match code {
        200 => "OK",
        201 => "Created",
        206 => "Partial Content",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(range) = content_range {
        head.push_str(&format!("Content-Range: {range}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
    let mut rest = Vec::new();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.read_to_end(&mut rest);
}
