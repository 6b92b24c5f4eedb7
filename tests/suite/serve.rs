//! `driftless serve` driven over a real loopback port: pages, live reload after a data edit, the
//! error overlay and its clearing, the guards, a clean stop on SIGTERM; and nothing written.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::harness::Wiki;

/// A running `driftless serve` and the lines it prints.
struct Server {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(wiki: &Wiki) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(["serve", "--port", "0", "--root"])
            .arg(&wiki.root)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start driftless serve");
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("serve prints where it serves");
        let port = first
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        Server { child, port, lines }
    }

    /// Status and body of a request (`path` as sent on the request line).
    fn request(&self, path: &str, host: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        (status, body)
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.request(path, &format!("127.0.0.1:{}", self.port))
    }

    /// Opens the reload stream of a page served at `generation`.
    fn events(&self) -> BufReader<TcpStream> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        write!(
            s,
            "GET /__driftless/events HTTP/1.1\r\nHost: localhost:{}\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        r
    }

    /// The terminal line of the next rebuild.
    fn next_rebuild(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Ok(line) = self.lines.recv_timeout(deadline - Instant::now()) {
            if line.contains(" changed: ") {
                return line;
            }
        }
        panic!("no rebuild reported");
    }
}

/// Reads the stream until a `reload` event.
fn wait_for_reload(events: &mut BufReader<TcpStream>) {
    let mut line = String::new();
    loop {
        line.clear();
        let n = events.read_line(&mut line).expect("a reload event in time");
        assert!(n > 0, "the event stream ended");
        if line.trim() == "event: reload" {
            return;
        }
    }
}

/// Writes a file the way many editors save: a temporary file renamed over the original.
fn save(wiki: &Wiki, rel: &str, text: &str) {
    let tmp = wiki.path(&format!("{rel}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, wiki.path(rel)).unwrap();
}

#[test]
fn serve_reloads_after_a_data_edit_shows_errors_over_the_last_good_page_and_stops_cleanly() {
    let wiki = Wiki::empty();
    assert_eq!(wiki.run_in(&["init"]).code, 0);
    wiki.write(
        "content/plans.md",
        "---\ntitle: Plans\ndraft: true\n---\nA battery, one day.\n",
    );
    let server = Server::start(&wiki);

    // Drafts are served, marked as such.
    let (status, draft) = server.get("/plans/");
    assert_eq!(status, 200);
    assert!(
        draft.contains("class=\"draft-note\"") && draft.contains("A battery, one day."),
        "{draft}"
    );

    let (status, page) = server.get("/payback/");
    assert_eq!(status, 200);
    assert!(
        shown(&page).contains("Grid electricity costs EUR 0.30/kWh"),
        "{page}"
    );
    assert!(
        page.contains("/__driftless/events"),
        "the reload script is injected"
    );
    // Same addresses as the published site: a folder without its slash is redirected.
    assert_eq!(server.get("/payback").0, 308);
    assert_eq!(server.get("/assets/style.css").0, 200);

    // A one-cell data edit: a reload event, then the new figure.
    let mut events = server.events();
    let params = wiki.read("data/params.yaml");
    save(
        &wiki,
        "data/params.yaml",
        &params.replace("value: 0.30", "value: 0.40"),
    );
    wait_for_reload(&mut events);
    assert!(server
        .next_rebuild()
        .contains("data/params.yaml changed: rebuilt 7 pages"));
    let (_, page) = server.get("/payback/");
    assert!(
        shown(&page).contains("Grid electricity costs EUR 0.40/kWh"),
        "{page}"
    );
    assert!(!page.contains("driftless-error"));

    // A broken edit: the last good page, with the error over it, at its line.
    let good = wiki.read("data/params.yaml");
    std::fs::write(wiki.path("data/params.yaml"), format!("{good}broken: [\n")).unwrap();
    wait_for_reload(&mut events);
    assert!(server.next_rebuild().contains("the build failed"));
    let (status, page) = server.get("/payback/");
    assert_eq!(status, 200);
    assert!(
        shown(&page).contains("Grid electricity costs EUR 0.40/kWh"),
        "{page}"
    );
    assert!(page.contains("id=\"driftless-error\""), "{page}");
    assert!(page.contains("data/params.yaml:9:9"), "{page}");

    // The next good save clears it.
    std::fs::write(wiki.path("data/params.yaml"), good.replace("0.40", "0.20")).unwrap();
    wait_for_reload(&mut events);
    assert!(server.next_rebuild().contains("the error is fixed"));
    let (_, page) = server.get("/payback/");
    assert!(
        shown(&page).contains("EUR 0.20/kWh") && !page.contains("driftless-error"),
        "{page}"
    );

    // Editors' swap files are not sources.
    std::fs::write(wiki.path("data/.params.yaml.swp"), "x").unwrap();
    std::fs::write(wiki.path("content/payback.md~"), "x").unwrap();

    // Guards: another host name (DNS rebinding), paths out of the site, other methods.
    assert_eq!(server.request("/payback/", "attacker.example").0, 403);
    assert_eq!(server.get("/../../etc/passwd").0, 404);
    assert_eq!(server.get("/%2e%2e/driftless.yaml").0, 404);
    assert_eq!(server.get("/data/params.yaml").0, 404);
    let (status, body) = server.get("/no/such/page/");
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"), "{body}");

    // Serving writes nothing into the wiki.
    assert!(!wiki.path("site").exists());
    assert!(!wiki.path("values.lock").exists());

    // SIGTERM: a clean stop, with the event stream open.
    let Server {
        mut child, lines, ..
    } = server;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(rest.iter().any(|l| l == "stopped serving"), "{rest:?}");
    // No rebuild was caused by the swap files.
    assert!(
        !rest.iter().any(|l| l.contains(".swp") || l.contains('~')),
        "{rest:?}"
    );
    drop(events);
}

/// A page's text as a reader sees it (figures are links; the words are what counts).
fn shown(page: &str) -> String {
    crate::harness::text_of(page)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
