//! The HTTP side of `serve`: pages from memory at the published site's addresses, the reload
//! event stream, and the guards (only GET and HEAD, no path outside the site, no directory
//! listing, a `Host` check against DNS rebinding on loopback).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State as With;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{Served, State};

/// Where open pages listen for reloads. Not an address a wiki can publish: slugs never start
/// with an underscore.
pub const EVENTS: &str = "/__driftless/events";

/// Serves until `stop` completes, then lets open requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route(EVENTS, get(events))
        .fallback(page)
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}

/// Refuses a request whose `Host` is not this machine's loopback name: a page on another site
/// that resolves its own name to 127.0.0.1 (DNS rebinding) cannot read the wiki.
fn host_refused(state: &State, headers: &HeaderMap) -> Option<Response> {
    let allowed = state.hosts.as_ref()?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return None;
    }
    Some(
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "driftless serve answers only requests to localhost, not to `{host}`; \
                 pass --bind to serve on another address\n"
            ),
        )
            .into_response(),
    )
}

/// The reload events: one `reload` per build after the generation the page was served from.
async fn events(With(state): With<Arc<State>>, headers: HeaderMap, uri: Uri) -> Response {
    if let Some(refused) = host_refused(&state, &headers) {
        return refused;
    }
    let rx = state.reload.subscribe();
    let stopping = state.stopping.clone();
    // A build that finished between serving the page and opening this stream is not missed.
    let since: Option<u64> = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("since=")))
        .and_then(|v| v.parse().ok());
    let behind = since
        .is_some_and(|s| s < state.current().generation)
        .then(|| state.current().generation);
    let stream = futures::stream::unfold(
        (rx, stopping, behind),
        |(mut rx, mut stopping, behind)| async move {
            if let Some(g) = behind {
                return Some((reload_event(g), (rx, stopping, None)));
            }
            loop {
                if *stopping.borrow() {
                    return None;
                }
                tokio::select! {
                    got = rx.recv() => match got {
                        Ok(g) => return Some((reload_event(g), (rx, stopping, None))),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = stopping.changed() => return None,
                }
            }
        },
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn reload_event(generation: u64) -> Result<Event, Infallible> {
    Ok(Event::default()
        .event("reload")
        .data(generation.to_string()))
}

/// A file of the site, at the address the published site has it.
async fn page(
    With(state): With<Arc<State>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Some(refused) = host_refused(&state, &headers) {
        return refused;
    }
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "only GET and HEAD\n",
        )
            .into_response();
    }
    let served = state.current();
    let Some(path) = site_path(uri.path()) else {
        return not_found(&served);
    };
    let key = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.clone()
    };
    if let Some(bytes) = served.files.get(&key) {
        return file(&served, &key, bytes, StatusCode::OK);
    }
    // `/gpus` is `/gpus/` when that is a page, as static web servers do.
    if !path.is_empty()
        && !path.ends_with('/')
        && served.files.contains_key(&format!("{path}/index.html"))
    {
        let mut to = format!("/{}/", uri.path().trim_start_matches('/'));
        if let Some(q) = uri.query() {
            to = format!("{to}?{q}");
        }
        return (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, to)]).into_response();
    }
    not_found(&served)
}

/// The path of a request as a key of the site (no leading `/`), or `None` for one that can
/// name nothing in it: `.` or `..` segments, back slashes, NUL, text that is not UTF-8.
fn site_path(raw: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?
        .to_string();
    let path = decoded.trim_start_matches('/');
    let bad = path
        .split('/')
        .any(|s| s == "." || s == ".." || s.contains('\\') || s.contains('\0'));
    (!bad).then(|| crate::fsutil::nfc(path))
}

/// The site's own `404.html` if it has one, else a short page with a way home.
fn not_found(served: &Served) -> Response {
    match served.files.get("404.html") {
        Some(bytes) => file(served, "404.html", bytes, StatusCode::NOT_FOUND),
        None => {
            let body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page not found</title></head>\
                        <body><h1>Page not found</h1><p>No page of the wiki is at this address. <a href=\"/\">Home</a> · <a href=\"/data/\">Data catalog</a></p></body></html>\n";
            file(served, "404.html", body.as_bytes(), StatusCode::NOT_FOUND)
        }
    }
}

fn file(served: &Served, key: &str, bytes: &[u8], status: StatusCode) -> Response {
    let mime = mime_guess::from_path(key).first_or_octet_stream();
    let is_html = mime.essence_str() == "text/html";
    let content_type = if mime.type_() == "text"
        || mime.essence_str() == "application/json"
        || mime.essence_str() == "image/svg+xml"
    {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_string()
    };
    let body = if is_html {
        inject(bytes, served)
    } else {
        bytes.to_vec()
    };
    (
        status,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        body,
    )
        .into_response()
}

/// A page as served: the reload script, and the error overlay while the last build failed,
/// before `</body>`. Only `serve` adds them; `build` never does.
fn inject(html: &[u8], served: &Served) -> Vec<u8> {
    let mut extra = format!(
        "<script>(()=>{{const s=new EventSource(\"{EVENTS}?since={}\");\
         s.addEventListener(\"reload\",()=>location.reload());}})();</script>\n",
        served.generation
    );
    if let Some(report) = &served.error {
        extra.push_str(&overlay(report));
    }
    let at = find_last(html, b"</body>").unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + extra.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(extra.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

/// The build's report over the page, as `build` prints it.
fn overlay(report: &str) -> String {
    format!(
        "<div id=\"driftless-error\" role=\"alert\" style=\"position:fixed;left:0;right:0;bottom:0;max-height:70vh;\
         overflow:auto;z-index:2147483647;margin:0;padding:1em 1.25em;background:#2a0d0f;color:#fbe9ea;\
         border-top:4px solid #e5484d;font:14px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace\">\
         <p style=\"margin:0 0 .5em;font-weight:bold\">The build failed: this page is from the last good build. \
         Fix the error below and save; the page reloads.</p>\
         <pre style=\"margin:0;white-space:pre-wrap\">{}</pre></div>\n",
        crate::markdown::escape_html(report)
    )
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle))
}
