//! Which attachment links the worker downloads. A link is whatever a ticket's JSON holds, so it
//! must not be able to turn the worker against its own network: the cloud's metadata service,
//! a database, another port of this machine. Refused, both before the request and on every
//! redirect (at most [`MAX_REDIRECTS`]):
//!
//! - any scheme but `https`, except for the configured Glassix origin itself;
//! - an address that is loopback, private, link-local, unique-local, shared (CGNAT),
//!   multicast or unspecified, whether the link names it or a host name resolves to it. The
//!   resolver ([`PublicAddresses`]) checks at connect time, so a name that resolves to a public
//!   address when looked at and to a private one when connected to (DNS rebinding) is refused
//!   too.
//!
//! The one exception is the origin (scheme, host and port) of `GLASSIX_BASE_URL`: local
//! development and the tests serve files there. Deployed, that origin is Glassix's public host,
//! so nothing private is ever reachable.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// Redirects followed for one download.
pub const MAX_REDIRECTS: usize = 3;

/// A link refused, and by which rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("refused by the download rules: {0}")]
pub struct Refused(pub &'static str);

/// The origins a link may point at although they are not public.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<Origin>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn of(url: &Url) -> Option<Self> {
        Some(Self {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default(),
        })
    }
}

impl AllowedOrigins {
    /// The origin of the Glassix base URL.
    pub fn of(base: &Url) -> Self {
        Self(Origin::of(base).into_iter().collect())
    }

    /// One more origin (tests serve faulty files from servers of their own).
    pub fn and(mut self, url: &Url) -> Self {
        self.0.extend(Origin::of(url));
        self
    }

    fn allows(&self, url: &Url) -> bool {
        Origin::of(url).is_some_and(|origin| self.0.contains(&origin))
    }

    fn allows_host(&self, host: &str) -> bool {
        self.0
            .iter()
            .any(|origin| origin.host.eq_ignore_ascii_case(host))
    }

    /// Whether `url` may be requested (before the request, and for each redirect). A host
    /// name is checked again when it is resolved ([`PublicAddresses`]).
    pub fn check(&self, url: &Url) -> Result<(), Refused> {
        if self.allows(url) {
            return Ok(());
        }
        if url.scheme() != "https" {
            return Err(Refused("only https links are downloaded"));
        }
        match url.host() {
            None => Err(Refused("a link without a host")),
            Some(url::Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => {
                Err(Refused("a link to a private address"))
            }
            Some(url::Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => {
                Err(Refused("a link to a private address"))
            }
            // Another port of an allowed host is not an allowed origin; its addresses may well
            // be private, and the resolver lets the allowed hosts' names through.
            Some(url::Host::Domain(host)) if self.allows_host(host) => {
                Err(Refused("another port or scheme of the Glassix host"))
            }
            Some(_) => Ok(()),
        }
    }

    /// The redirect policy that applies [`Self::check`] to every hop.
    pub fn redirect_policy(&self) -> reqwest::redirect::Policy {
        let origins = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(Refused("more than 3 redirects"));
            }
            match origins.check(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        })
    }

    /// The resolver that refuses private addresses except for the allowed hosts' names.
    pub fn resolver(&self) -> Arc<PublicAddresses> {
        Arc::new(PublicAddresses(self.clone()))
    }
}

/// Resolves host names, refusing any name that resolves to an address that is not public.
#[derive(Debug)]
pub struct PublicAddresses(AllowedOrigins);

impl Resolve for PublicAddresses {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let any_address = self.0.allows_host(&host);
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !any_address && addresses.iter().any(|a| !is_public(a.ip())) {
                return Err(Refused("a host name that resolves to a private address").into());
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// An address on the internet, as opposed to this machine, its networks or nowhere.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            let shared = a == 100 && (64..128).contains(&b);
            !(ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
                || shared
                || a == 0)
        }
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(mapped) => is_public(IpAddr::V4(mapped)),
            None => {
                let first = ip.segments()[0];
                let unique_local = first & 0xfe00 == 0xfc00;
                let link_local = first & 0xffc0 == 0xfe80;
                !(ip.is_loopback()
                    || ip.is_unspecified()
                    || ip.is_multicast()
                    || unique_local
                    || link_local)
            }
        },
    }
}

/// The rule that refused a request, found in a reqwest error's sources.
pub fn refusal(error: &reqwest::Error) -> Option<Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return Some(*refused);
        }
        source = cause.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    #[test]
    fn only_public_https_links_and_the_glassix_origin_pass() {
        let origins = AllowedOrigins::of(&url("http://127.0.0.1:3000/api/v1.2/"));
        for (link, expected) in [
            ("http://127.0.0.1:3000/files/1", Ok(())),
            ("https://bucket.s3.amazonaws.com/x?X-Amz-Expires=1", Ok(())),
            ("https://93.184.216.34/x", Ok(())),
            (
                "http://bucket.s3.amazonaws.com/x",
                Err(Refused("only https links are downloaded")),
            ),
            (
                "https://127.0.0.1:3001/x",
                Err(Refused("a link to a private address")),
            ),
            (
                "https://169.254.169.254/latest/meta-data/",
                Err(Refused("a link to a private address")),
            ),
            (
                "https://[::ffff:10.0.0.1]/x",
                Err(Refused("a link to a private address")),
            ),
            (
                "https://[fd00::1]/x",
                Err(Refused("a link to a private address")),
            ),
            (
                "file:///etc/passwd",
                Err(Refused("only https links are downloaded")),
            ),
        ] {
            assert_eq!(origins.check(&url(link)), expected, "{link}");
        }
        let named = AllowedOrigins::of(&url("http://localhost:3000/api/v1.2/"));
        assert_eq!(
            named.check(&url("https://localhost:3001/x")),
            Err(Refused("another port or scheme of the Glassix host"))
        );
    }

    #[test]
    fn private_networks_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                !is_public(private.parse().expect("an address")),
                "{private}"
            );
        }
        for public in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(public.parse().expect("an address")), "{public}");
        }
    }
}
