import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SigilCore
import SigilModel

/// The upstream platform's session (`../shared/seeds/000_*`): a session id and an identity URL in
/// two headers. Sigil asks the identity URL who the session belongs to, with the session as a
/// bearer token (RFC 6750), only when the URL's host is on the allowlist, over https (http only on
/// loopback), without following redirects, and reads one field of the JSON answer as the Sigil user.
/// A success is kept for the configured time under the SHA-256 of (session, identity URL), never the
/// session itself.
struct PlatformSessionAuthenticator: Authenticator {
    let name = "platform-session"
    let client: HTTPClient
    let cache = SessionCache()

    func authenticate(_ request: Request, context: ServiceContext, settings: ServiceSettings) async throws
        -> AuthenticationOutcome
    {
        guard let session = settings.platformSession,
            let sessionName = HTTPField.Name(session.sessionHeader),
            let identityName = HTTPField.Name(session.identityHeader),
            let sessionID = request.headers[sessionName], let identity = request.headers[identityName]
        else { return .notApplicable }
        let keys: [String] = []  // the chain counts the address
        guard let url = InboundCredentials.identityURL(identity, allowedHosts: session.allowedHosts),
            !sessionID.isEmpty, sessionID.utf8.count <= 4096
        else {
            return .failed(keys: keys)
        }
        let tag = SessionCache.tag(session: sessionID, identity: url)
        if let user = cache.user(for: tag) { return .authenticated(user: user) }
        guard let user = await lookUp(url, session: sessionID, field: session.userField) else {
            return .failed(keys: keys)
        }
        if session.cacheSeconds > 0 { cache.insert(tag, user: user, for: .seconds(session.cacheSeconds)) }
        return .authenticated(user: user)
    }

    /// Asks the identity URL; `nil` for any answer but a 200 with the field as a string.
    private func lookUp(_ url: String, session: String, field: String) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(session)")
        request.headers.add(name: "Accept", value: "application/json")
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: 64 << 10)
            guard let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let user = object[field] as? String, !user.isEmpty
            else { return nil }
            return user
        } catch {
            return nil
        }
    }
}

/// Sessions recently proved, by the SHA-256 of (session, identity URL).
final class SessionCache: Sendable {
    private let entries = ExpiringCache<Data, String>(capacity: 10_000)

    static func tag(session: String, identity: String) -> Data {
        var hash = SHA256()
        for part in [session, identity] {
            withUnsafeBytes(of: UInt32(part.utf8.count).bigEndian) { hash.update(data: $0) }
            hash.update(data: Data(part.utf8))
        }
        return Data(hash.finalize())
    }

    func user(for tag: Data) -> String? { entries.value(for: tag) }

    func insert(_ tag: Data, user: String, for lifetime: Duration) {
        entries.insert(user, for: tag, lifetime: lifetime)
    }
}
