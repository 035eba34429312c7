//! A scripted HTTP/1.1 server on 127.0.0.1 for the client tests.
//!
//! Each accepted connection gets the next scripted reply: the server reads and records one
//! request, then writes the reply with `Connection: close`. When the script is used up,
//! the listener is dropped, so further connections are refused.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One scripted response.
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    /// Pause between reading the request and writing the response.
    delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::with_type(status, "application/json; charset=utf-8", body)
    }

    pub fn html(status: u16, body: impl Into<String>) -> Self {
        Self::with_type(status, "text/html; charset=utf-8", body)
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    fn with_type(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(received, _)| received == name)
            .map(|(_, value)| value.as_str())
    }

    /// Parses the body as JSON and panics when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

pub struct TestServer {
    pub base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl TestServer {
    pub fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        thread::spawn(move || {
            for reply in script {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                // One thread per connection, so a delayed reply does not hold up the next
                // connection, such as the retry after a client timeout.
                let log = Arc::clone(&log);
                thread::spawn(move || serve(stream, &reply, &log));
            }
        });
        Self { base_url, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Returns the requests sent to the GraphQL endpoint, leaving out token requests.
    pub fn graphql_requests(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|request| request.path.ends_with("/graphql.json"))
            .collect()
    }
}

fn serve(mut stream: TcpStream, reply: &Reply, log: &Mutex<Vec<Received>>) {
    if let Some(request) = read_request(&mut stream) {
        log.lock().unwrap().push(request);
    }
    thread::sleep(reply.delay);
    // The client may have given up and closed the connection already.
    let _ = write_reply(&mut stream, reply);
}

/// Returns a loopback URL whose port nothing listens on.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}")
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut bytes = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(position) = find(&bytes, b"\r\n\r\n") {
            break position;
        }
        let count = stream.read(&mut chunk).ok()?;
        if count == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..count]);
    };

    let head = String::from_utf8(bytes[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();

    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = bytes[head_end + 4..].to_vec();
    while body.len() < length {
        let count = stream.read(&mut chunk).ok()?;
        if count == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..count]);
    }

    Some(Received {
        method,
        path,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

fn write_reply(stream: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut response = format!("HTTP/1.1 {} Scripted\r\n", reply.status);
    for (name, value) in &reply.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.body.len(),
        reply.body
    ));
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
