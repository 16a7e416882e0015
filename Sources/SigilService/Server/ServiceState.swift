import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import SigilCore
import SigilHTTP
import SigilModel
import SigilSigning
import SigilStore
import SigilTokens
import Synchronization

/// What every route works with: the open vault, the one engine over it, the executor that sends
/// proxied requests, the use recorder and the metrics. One per server.
final class ServiceState: Sendable {
    let vault: Vault
    let engine: SigningEngine
    let broker: CredentialBroker
    let executor: Executor
    let recorder: UseRecorder
    let samlSignOn = SAMLSignOn()
    /// The browsers' sessions (SAML sign-on, the login form) and the pages over them.
    let sessions = BrowserSessions()
    let connectFlows = ConnectFlows()
    let pages = PageRenderer()
    private let publicURLValue = Mutex<String>("")
    /// Threads for the directory's blocking LDAP calls (at most eight binds at once).
    let directoryPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()
    /// Asks platform identity URLs who a session is: no redirects, short timeouts.
    let identityClient = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(3), read: .seconds(5))))
    let metrics: ServiceMetrics
    let clock: @Sendable () -> Date
    let logger: Logger

    init(vault: Vault, metrics: ServiceMetrics, logger: Logger, clock: @escaping @Sendable () -> Date) {
        self.vault = vault
        self.broker = CredentialBroker(
            vault: vault,
            observeProviderCall: { credential, failed in
                metrics.tokenUse(externalCredential: credential, failed: failed)
            })
        self.engine = SigningEngine(source: vault, issuer: broker)
        self.executor = Executor(engine: engine)
        self.recorder = UseRecorder(vault: vault, logger: logger)
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    /// The service's URL as browsers reach it (`--public-url`, else the listening URL): the base of
    /// the OAuth callback `/oauth/callback`, and `https:` makes the cookies Secure.
    var publicURL: String {
        get { publicURLValue.withLock { $0 } }
        set { publicURLValue.withLock { $0 = newValue } }
    }

    /// The user a request acts as: the caller, or with `as` another user when the caller may act as
    /// others. Never `nil`: `nil` is the vault operator's own CLI, which may use any named principal.
    func actingUser(_ caller: Caller, as other: String?) throws -> String {
        guard let other, other != caller.user.name else { return caller.user.name }
        guard caller.mayActAsOthers else {
            throw ServiceError.forbidden(
                "user \(caller.user.name.sanitizedForMessage) may not act as another user (\"as\"): that takes the admin role, or an app role granted with actAs"
            )
        }
        return other
    }

    /// Records one use: who, as whom, through which credential, what request, how it ended.
    func recordUse(
        _ kind: UseRecord.Kind, caller: Caller, actingUser: String, method: String, url: String,
        decorated: DecoratedRequest?, outcome: String
    ) {
        recordUse(
            kind, caller: caller, actingUser: actingUser, method: method, url: decorated?.url ?? url,
            namedCredential: decorated?.namedCredential, principal: decorated?.principal, outcome: outcome)
    }

    func recordUse(
        _ kind: UseRecord.Kind, caller: Caller, actingUser: String, method: String, url: String,
        namedCredential: String? = nil, principal: PrincipalRef?, outcome: String
    ) {
        var target = UseTarget(url: url)
        // A callout names no host: the named credential's endpoint has it.
        if target.host.isEmpty, let name = namedCredential ?? target.namedCredential,
            let endpoint = try? vault.catalog().namedCredential(named: name)?.url,
            let host = URLComponents(string: endpoint)?.host
        {
            target.host = host
        }
        recorder.record(
            UseRecord(
                kind: kind, at: clock(), caller: caller.user.name, authenticator: caller.authenticator,
                actingUser: actingUser, namedCredential: namedCredential ?? target.namedCredential,
                principal: principal?.description, method: method, host: target.host, path: target.path,
                outcome: outcome))
    }
}

/// Where a request went, for its use record: host and path, never the query.
struct UseTarget {
    var namedCredential: String?
    var host: String
    var path: String

    /// `url` as the engine resolved it (`scheme://authority/path`), or as the caller gave it when
    /// signing failed (`callout:NAME/path`, or anything else, recorded as its path). Read by hand,
    /// not by `URLComponents`, which cost a fifth of the signing route (scripts/benchmark-service).
    init(url: String) {
        let utf8 = url.utf8
        let text = url[..<(utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex)]
        let colon = text.utf8.firstIndex(of: UInt8(ascii: ":"))
        if text.utf8.starts(with: "callout:".utf8) {
            let rest = text.dropFirst("callout:".count)
            let name = rest[..<(rest.utf8.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex)]
            namedCredential = String(name).sanitizedForMessage
            host = ""
            path = String(rest[name.endIndex...]).sanitizedForMessage
        } else if let colon, text.utf8[colon...].starts(with: "://".utf8) {
            let rest = text[text.utf8.index(colon, offsetBy: 3)...]
            let authority = rest[..<(rest.utf8.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex)]
            // RFC 3986 section 3.2: [userinfo "@"] host [":" port], an IPv6 host in brackets.
            var hostAndPort = authority
            if let at = authority.utf8.lastIndex(of: UInt8(ascii: "@")) {
                hostAndPort = authority[authority.utf8.index(after: at)...]
            }
            let name: Substring
            if hostAndPort.utf8.first == UInt8(ascii: "[") {
                let address = hostAndPort.dropFirst()
                name = address[..<(address.utf8.firstIndex(of: UInt8(ascii: "]")) ?? address.endIndex)]
            } else {
                name = hostAndPort[..<(hostAndPort.utf8.firstIndex(of: UInt8(ascii: ":")) ?? hostAndPort.endIndex)]
            }
            host = String(name).sanitizedForMessage
            path = String(rest[authority.endIndex...]).sanitizedForMessage
        } else {
            host = ""
            path = String(text).sanitizedForMessage
        }
        if path.isEmpty { path = "/" }
    }
}

/// The outcome word of a failed use: the error's code.
func outcome(of error: any Error) -> String {
    (error as? SigilError)?.code.rawValue ?? (error as? ServiceError)?.code ?? "internal"
}
