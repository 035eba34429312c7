//! Checks of the base URLs that the Stripe and Shopify clients send requests to.

use reqwest::Url;
use std::net::IpAddr;

/// The reason a base URL is rejected. Each client turns it into its own error and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseUrlProblem {
    /// The text is not an absolute URL.
    Unparsable,
    /// The URL contains a user name or password.
    Credentials,
    /// The URL has a query or a fragment.
    QueryOrFragment,
    /// The scheme is plain `http` and the host is not a loopback host.
    PlainHttp,
    /// The scheme is neither `https` nor `http`.
    UnsupportedScheme,
}

/// Parses `text` as a base URL and returns it without a trailing slash.
///
/// The URL must use `https`, or plain `http` on a loopback host (see [`is_loopback_host`]),
/// and must contain no credentials, query or fragment.
pub(crate) fn normalize_base_url(text: &str) -> Result<String, BaseUrlProblem> {
    let url = Url::parse(text).map_err(|_| BaseUrlProblem::Unparsable)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BaseUrlProblem::Credentials);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(BaseUrlProblem::QueryOrFragment);
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => return Err(BaseUrlProblem::PlainHttp),
        _ => return Err(BaseUrlProblem::UnsupportedScheme),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Returns true when the host of `url` is `localhost` (in any case) or a loopback IPv4 or
/// IPv6 address. The name is compared as written and never resolved through DNS.
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    // `host_str` writes IPv6 addresses in brackets, such as `[::1]`.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .is_ok_and(|address| address.is_loopback())
}
