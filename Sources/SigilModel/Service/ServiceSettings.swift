import Foundation

/// The service's settings: the apply file's `service:` (README, "The service"). Which inbound
/// authenticators run, and how failures slow down. Not secret.
public struct ServiceSettings: Sendable, Hashable, Codable {
    /// HTTP Basic against Sigil's own users (passwords set with `sigil user set-password`).
    public var basic: Toggle
    /// `Authorization: Bearer` API keys (`sigil apikey create`).
    public var apiKeys: Toggle
    /// How repeated authentication failures slow down.
    public var failures: FailureDelay
    /// An upstream platform's session (a session id and an identity URL, as Salesforce's pair);
    /// `nil`: off.
    public var platformSession: PlatformSession?
    /// HTTP Basic checked by an LDAP simple bind; `nil`: off.
    public var directory: Directory?
    /// Browser sign-on through a SAML 2.0 identity provider; `nil`: off.
    public var saml: SAML?

    public init(
        basic: Toggle = Toggle(), apiKeys: Toggle = Toggle(), failures: FailureDelay = FailureDelay(),
        platformSession: PlatformSession? = nil, directory: Directory? = nil, saml: SAML? = nil
    ) {
        self.basic = basic
        self.apiKeys = apiKeys
        self.failures = failures
        self.platformSession = platformSession
        self.directory = directory
        self.saml = saml
    }

    /// SAML 2.0 web browser sign-on, SP-initiated, with the HTTP-POST binding both ways: the service
    /// (``spEntityID``) posts an AuthnRequest to the IdP's ``idpSSOURL``; the IdP posts its signed
    /// Response to ``acsURL`` (this service's `/saml/acs`, as the browser reaches it). The signature
    /// is checked against ``idpCertificate`` only. The user is ``userAttribute``'s first value, or the
    /// NameID. A session lasts ``sessionMinutes``.
    public struct SAML: Sendable, Hashable, Codable {
        public var idpEntityID: String
        public var idpSSOURL: String
        /// The IdP's signing certificate (PEM).
        public var idpCertificate: String
        public var spEntityID: String
        public var acsURL: String
        public var userAttribute: String?
        public var sessionMinutes: Int
        public var clockSkewSeconds: Int

        public init(
            idpEntityID: String = "", idpSSOURL: String = "", idpCertificate: String = "", spEntityID: String = "",
            acsURL: String = "", userAttribute: String? = nil, sessionMinutes: Int = 30, clockSkewSeconds: Int = 120
        ) {
            self.idpEntityID = idpEntityID
            self.idpSSOURL = idpSSOURL
            self.idpCertificate = idpCertificate
            self.spEntityID = spEntityID
            self.acsURL = acsURL
            self.userAttribute = userAttribute
            self.sessionMinutes = sessionMinutes
            self.clockSkewSeconds = clockSkewSeconds
        }

        public var problems: [(field: String, problem: String)] {
            var problems: [(String, String)] = []
            for (field, value) in [("idpEntityID", idpEntityID), ("spEntityID", spEntityID)] where value.isEmpty {
                problems.append(("saml.\(field)", "is required"))
            }
            for (field, value) in [("idpSSOURL", idpSSOURL), ("acsURL", acsURL)] {
                let components = URLComponents(string: value)
                let host = components?.host ?? ""
                if host.isEmpty
                    || !(components?.scheme == "https"
                        || (components?.scheme == "http" && InboundCredentials.isLoopback(host)))
                {
                    problems.append(("saml.\(field)", "expected an https URL (http only on loopback)"))
                }
            }
            if (try? CertificateInfo.chain(pem: idpCertificate).first) == nil {
                problems.append(("saml.idpCertificate", "is not a PEM certificate"))
            }
            if !(1...720).contains(sessionMinutes) { problems.append(("saml.sessionMinutes", "expected 1 to 720")) }
            if !(0...600).contains(clockSkewSeconds) {
                problems.append(("saml.clockSkewSeconds", "expected 0 to 600"))
            }
            return problems
        }
    }

    /// The directory authenticator: a Basic user name and password are checked by an LDAP simple
    /// bind as ``userDN`` (with `{user}` replaced by the name, escaped as RFC 4514 says). Groups the
    /// user belongs to in the directory (``groupFilter`` under ``groupBase``, `{dn}` the user's DN,
    /// escaped as RFC 4515 says) map to Sigil groups through ``groups`` and count for roles.
    public struct Directory: Sendable, Hashable, Codable {
        /// `ldap://host:port` or `ldaps://host:port`.
        public var url: String
        /// StartTLS (RFC 4513, section 3) on an `ldap://` URL; required off loopback.
        public var startTLS: Bool
        /// PEM CA certificates the directory's certificate must chain to (a path); `nil`: the system's.
        public var caBundle: String?
        public var userDN: String
        public var groupBase: String?
        public var groupFilter: String
        /// Directory group (the value of ``groupAttribute``) -> Sigil group.
        public var groups: [String: String]
        public var groupAttribute: String
        public var timeoutSeconds: Int

        public init(
            url: String = "", startTLS: Bool = false, caBundle: String? = nil, userDN: String = "",
            groupBase: String? = nil, groupFilter: String = "(member={dn})", groups: [String: String] = [:],
            groupAttribute: String = "cn", timeoutSeconds: Int = 5
        ) {
            self.url = url
            self.startTLS = startTLS
            self.caBundle = caBundle
            self.userDN = userDN
            self.groupBase = groupBase
            self.groupFilter = groupFilter
            self.groups = groups
            self.groupAttribute = groupAttribute
            self.timeoutSeconds = timeoutSeconds
        }

        public var problems: [(field: String, problem: String)] {
            var problems: [(String, String)] = []
            let components = URLComponents(string: url)
            let scheme = components?.scheme?.lowercased()
            if scheme != "ldap" && scheme != "ldaps" || components?.host?.isEmpty != false
                || !(components?.path.isEmpty ?? true) || components?.query != nil
            {
                problems.append(("directory.url", "expected ldap://HOST[:PORT] or ldaps://HOST[:PORT]"))
            } else if scheme == "ldap" && !startTLS && !InboundCredentials.isLoopback(components?.host ?? "") {
                problems.append(
                    ("directory.url", "passwords would cross the network in clear: use ldaps:// or startTLS: true"))
            }
            if scheme == "ldaps" && startTLS {
                problems.append(("directory.startTLS", "is for ldap:// URLs; ldaps:// is TLS from the start"))
            }
            if userDN.components(separatedBy: "{user}").count != 2 {
                problems.append(
                    ("directory.userDN", "must hold {user} once, e.g. uid={user},ou=people,dc=example,dc=org"))
            }
            if groupBase != nil && groupFilter.components(separatedBy: "{dn}").count != 2 {
                problems.append(("directory.groupFilter", "must hold {dn} once, e.g. (member={dn})"))
            }
            if !(1...60).contains(timeoutSeconds) {
                problems.append(("directory.timeoutSeconds", "expected 1 to 60"))
            }
            return problems
        }
    }

    /// The first authenticator of the chain: a caller sends its platform session id and the URL of
    /// its identity; Sigil asks that URL, with the session as a bearer token, who it is, but only
    /// when the URL's host is on ``allowedHosts`` (never an arbitrary URL: that would let any caller
    /// make the service send requests where they like). A success is kept for ``cacheSeconds``.
    public struct PlatformSession: Sendable, Hashable, Codable {
        public var sessionHeader: String
        public var identityHeader: String
        /// Hosts (`id.example.com`, or `host:port`) the identity URL may name; https only, except
        /// on loopback.
        public var allowedHosts: [String]
        /// Which field of the identity's JSON names the Sigil user: `username`, `email` or `user_id`.
        public var userField: String
        public var cacheSeconds: Int

        public static let userFields = ["username", "email", "user_id"]

        public init(
            sessionHeader: String = "X-Sigil-Session", identityHeader: String = "X-Sigil-Identity-URL",
            allowedHosts: [String] = [], userField: String = "username", cacheSeconds: Int = 60
        ) {
            self.sessionHeader = sessionHeader
            self.identityHeader = identityHeader
            self.allowedHosts = allowedHosts
            self.userField = userField
            self.cacheSeconds = cacheSeconds
        }

        public var problems: [(field: String, problem: String)] {
            var problems: [(String, String)] = []
            for (field, name) in [("sessionHeader", sessionHeader), ("identityHeader", identityHeader)]
            where !HTTPFieldRules.isValidName(name) {
                problems.append(("platformSession.\(field)", "is not a header name"))
            }
            if allowedHosts.isEmpty {
                problems.append(("platformSession.allowedHosts", "name at least one host the identity URL may be on"))
            }
            for host in allowedHosts
            where host.isEmpty || host.contains("/") || host.contains("@") || host.contains("*") {
                problems.append(
                    ("platformSession.allowedHosts", "\(host.sanitizedForMessage) is not a host or host:port"))
            }
            if !Self.userFields.contains(userField) {
                problems.append(
                    ("platformSession.userField", "expected one of \(Self.userFields.joined(separator: ", "))"))
            }
            if !(0...3600).contains(cacheSeconds) {
                problems.append(("platformSession.cacheSeconds", "expected 0 to 3600"))
            }
            return problems
        }
    }

    public struct Toggle: Sendable, Hashable, Codable {
        public var enabled: Bool

        public init(enabled: Bool = true) {
            self.enabled = enabled
        }
    }

    /// After a failure for a user name or a client address, the next answer to it waits
    /// `firstMilliseconds`, doubling with each further failure up to `maximumMilliseconds`; a
    /// success or `forgetSeconds` without a failure clears the count.
    public struct FailureDelay: Sendable, Hashable, Codable {
        public var firstMilliseconds: Int
        public var maximumMilliseconds: Int
        public var forgetSeconds: Int

        public init(firstMilliseconds: Int = 200, maximumMilliseconds: Int = 5000, forgetSeconds: Int = 900) {
            self.firstMilliseconds = firstMilliseconds
            self.maximumMilliseconds = maximumMilliseconds
            self.forgetSeconds = forgetSeconds
        }

        /// The problems with these values, as `field: problem`.
        public var problems: [(field: String, problem: String)] {
            var problems: [(String, String)] = []
            if !(0...10_000).contains(firstMilliseconds) {
                problems.append(("failures.firstMilliseconds", "expected 0 to 10000"))
            }
            // Not a range from firstMilliseconds: that would trap when it is above 60000.
            if maximumMilliseconds < firstMilliseconds || maximumMilliseconds > 60_000 {
                problems.append(("failures.maximumMilliseconds", "expected firstMilliseconds to 60000"))
            }
            if !(1...86_400).contains(forgetSeconds) {
                problems.append(("failures.forgetSeconds", "expected 1 to 86400"))
            }
            return problems
        }
    }
}
