//! The scopes a token holds and the one a route requires.

use std::fmt;

/// What a token may do; each REST route requires one (see [`RouteScope`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every GET of clients, tickets, transactions and attachment files.
    Read,
    /// Create and update clients and tickets.
    Write,
    /// Delete tickets and clients; place or lift a legal hold.
    Erase,
    /// Request and download a client's data export.
    Export,
    /// Read the access log.
    Audit,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Read,
        Scope::Write,
        Scope::Erase,
        Scope::Export,
        Scope::Audit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Erase => "erase",
            Scope::Export => "export",
            Scope::Audit => "audit",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.name() == name)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes held, in [`Scope::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Self {
        Self(scopes.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

/// What a route requires of a token. Declared once per route, in `template.yaml` (the
/// function's `ROUTE_SCOPE`), so the deployed function, `local-api` and the contract test read
/// the same fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteScope {
    /// Any valid token (`GET /me`); nothing archived is read, so nothing is logged.
    AnyToken,
    /// A token holding this scope; every request is in the access log.
    Needs(Scope),
}

impl RouteScope {
    /// The value of `ROUTE_SCOPE` for a route any valid token may call.
    pub const ANY_TOKEN: &'static str = "any-token";

    pub fn parse(value: &str) -> Option<Self> {
        if value == Self::ANY_TOKEN {
            return Some(Self::AnyToken);
        }
        Scope::parse(value).map(Self::Needs)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AnyToken => Self::ANY_TOKEN,
            Self::Needs(scope) => scope.name(),
        }
    }

    pub fn allows(self, held: Scopes) -> bool {
        match self {
            Self::AnyToken => true,
            Self::Needs(scope) => held.contains(scope),
        }
    }

    /// Whether a request to the route is an access to archived data, and so in the log.
    pub fn is_logged(self) -> bool {
        matches!(self, Self::Needs(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.name()), Some(scope));
            assert_eq!(
                RouteScope::parse(scope.name()),
                Some(RouteScope::Needs(scope))
            );
        }
        assert_eq!(RouteScope::parse("any-token"), Some(RouteScope::AnyToken));
        for unknown in ["", "Read", "admin", "read "] {
            assert_eq!(RouteScope::parse(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn a_route_allows_only_a_token_holding_its_scope() {
        let reader: Scopes = [Scope::Read].into_iter().collect();
        assert!(RouteScope::Needs(Scope::Read).allows(reader));
        assert!(!RouteScope::Needs(Scope::Write).allows(reader));
        assert!(RouteScope::AnyToken.allows(Scopes::default()));
        assert!(!RouteScope::Needs(Scope::Read).allows(Scopes::default()));
        assert_eq!(Scopes::all().iter().count(), 5);
        assert_eq!(reader.iter().map(Scope::name).collect::<Vec<_>>(), ["read"]);
    }
}
