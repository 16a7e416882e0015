import Crypto
import Foundation
import Hummingbird
import NIOPosix
import SigilCore
import SigilModel
import SigilStore

/// HTTP Basic against Sigil's own users (RFC 7617): the password is checked against its Argon2id
/// hash (libsodium), off the event loop. A success is remembered for a minute under a keyed hash of
/// (user, stored hash, password), so an application that sends Basic on every request does not pay
/// Argon2id each time; a changed password changes the stored hash, which ends that at once.
struct BasicAuthenticator: PasswordAuthenticator {
    let name = "basic"
    let vault: Vault
    let throttle: FailureThrottle
    let verified = VerifiedPasswords()

    /// A hash nobody's password matches, checked when the user has none, so that the answer takes
    /// as long whether or not the user exists.
    private static let decoy: String = (try? PasswordHash.hash(SecretBytes.random(count: 32))) ?? ""

    func verify(user: String, password: SecretBytes, context: ServiceContext, settings: ServiceSettings)
        async throws -> AuthenticationOutcome
    {
        guard settings.basic.enabled else { return .notApplicable }
        let keys = ["user:\(user)"]
        // Guesses at one user's password queue (the address only delays failing answers: a busy
        // proxy's good requests must not wait for its bad ones).
        guard let wait = throttle.admit(keys, settings: settings.failures) else {
            throw ServiceError.tooManyFailures(retryAfter: max(1, settings.failures.maximumMilliseconds / 1000))
        }
        if wait > .zero { try await Task.sleep(for: wait) }
        let stored = try vault.passwordHash(of: user)
        if let stored, verified.contains(user: user, hash: stored, password: password) {
            return .authenticated(user: user)
        }
        let hash = stored ?? Self.decoy
        let matches = try await NIOThreadPool.singleton.runIfActive { PasswordHash.verify(password, against: hash) }
        guard matches, let stored else { return .failed(keys: keys) }
        verified.insert(user: user, hash: stored, password: password)
        return .authenticated(user: user)
    }
}

/// Recently verified passwords, as keyed hashes under a key made at start-up: never the password.
/// With each, the groups the check found (a directory's).
final class VerifiedPasswords: Sendable {
    static let lifetime: Duration = .seconds(60)
    private let key = SymmetricKey(size: .bits256)
    private let entries = ExpiringCache<Data, [String]>(capacity: 10_000)

    private func tag(user: String, hash: String, password: SecretBytes) -> Data {
        var mac = HMAC<SHA256>(key: key)
        for part in [Array(user.utf8), Array(hash.utf8)] {
            withUnsafeBytes(of: UInt32(part.count).bigEndian) { mac.update(data: $0) }
            mac.update(data: part)
        }
        password.withUnsafeBytes { mac.update(data: $0) }
        return Data(mac.finalize())
    }

    func contains(user: String, hash: String, password: SecretBytes) -> Bool {
        groups(user: user, hash: hash, password: password) != nil
    }

    /// The groups remembered with a verified password, or `nil` when it was not verified lately.
    func groups(user: String, hash: String, password: SecretBytes) -> [String]? {
        entries.value(for: tag(user: user, hash: hash, password: password))
    }

    func insert(user: String, hash: String, password: SecretBytes, groups: [String] = []) {
        entries.insert(groups, for: tag(user: user, hash: hash, password: password), lifetime: Self.lifetime)
    }
}
