//! The HTTP layer: warp in front of [`Api`].

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use warp::Filter;
use warp::http::{HeaderMap, Method, StatusCode, header};
use warp::reply::Reply as _;

use crate::api::{Api, Reply, Request};
use crate::request::Query;
use crate::status::ApiError;

/// Serves `api` on `listener` until `shutdown` resolves.
pub async fn serve(api: Arc<Api>, listener: tokio::net::TcpListener, shutdown: impl std::future::Future<Output = ()> + Send + 'static) {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let route = warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::body::bytes())
        .then(move |method: Method, path: warp::path::FullPath, raw: String, headers: HeaderMap, body: Bytes| {
            let api = api.clone();
            async move {
                let header = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok()).map(String::from);
                let req = Request {
                    method,
                    path: path.as_str().to_string(),
                    query: Query::parse(&raw),
                    content_type: header(header::CONTENT_TYPE),
                    accept: header(header::ACCEPT),
                    user_agent: header(header::USER_AGENT),
                    authorization: header(header::AUTHORIZATION),
                    body,
                    user: None,
                };
                tracing::debug!(method = %req.method, path = %req.path, "request");
                to_response(api.handle(req).await)
            }
        })
        .recover(|rej: warp::Rejection| async move {
            let e = ApiError::bad_request(format!("the request could not be read: {rej:?}"));
            Ok::<_, std::convert::Infallible>(to_response(e.into()))
        });
    warp::serve(route).incoming(listener).graceful(shutdown).run().await;
}

fn to_response(r: Reply) -> warp::reply::Response {
    match r {
        Reply::Json { code, body, warnings } => {
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let mut res = warp::http::Response::new(Bytes::from(bytes)).into_response();
            *res.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            res.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
            for w in warnings {
                if let Ok(v) = header::HeaderValue::from_str(&format!("299 - {:?}", w)) {
                    res.headers_mut().append(header::WARNING, v);
                }
            }
            res
        }
        Reply::Raw { code, body } => {
            let mut res = warp::http::Response::new(Bytes::from(body)).into_response();
            *res.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            res.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
            res
        }
        Reply::Text { code, body } => {
            let mut res = warp::http::Response::new(Bytes::from(body)).into_response();
            *res.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            res.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; charset=utf-8"));
            res
        }
        Reply::Watch(stream) => {
            let mut res = warp::reply::stream(stream).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
            res
        }
    }
}

/// Binds 127.0.0.1:`port` (0 picks a free port).
pub async fn bind(port: u16) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = l.local_addr()?;
    Ok((l, addr))
}
