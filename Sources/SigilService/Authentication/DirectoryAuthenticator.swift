import CLDAP
import Foundation
import Hummingbird
import Logging
import NIOPosix
import SigilCore
import SigilModel

#if canImport(Glibc)
import Glibc
#endif

/// HTTP Basic checked against a directory (RFC 4513, section 5.1.3: an LDAP simple bind) through
/// OpenLDAP's client library. An empty password is refused before any bind (a simple bind with an
/// empty password is an unauthenticated bind, which servers accept). The user's directory groups,
/// mapped to Sigil groups, count for roles. A success is remembered for a minute, as for Sigil Basic.
struct DirectoryAuthenticator: PasswordAuthenticator {
    let name = "directory"
    let throttle: FailureThrottle
    let pool: NIOThreadPool
    let verified = VerifiedPasswords()

    func verify(user: String, password: SecretBytes, context: ServiceContext, settings: ServiceSettings)
        async throws -> AuthenticationOutcome
    {
        guard let directory = settings.directory else { return .notApplicable }
        let keys = ["user:\(user)"]
        guard !password.isEmpty, password.count <= 1024 else { return .failed(keys: keys) }
        let binding = directory.url + "\u{0}" + directory.userDN
        if let groups = verified.groups(user: user, hash: binding, password: password) {
            return .authenticated(user: user, groups: groups)
        }
        guard let wait = throttle.admit(keys, settings: settings.failures) else {
            throw ServiceError.tooManyFailures(retryAfter: max(1, settings.failures.maximumMilliseconds / 1000))
        }
        if wait > .zero { try await Task.sleep(for: wait) }
        let outcome = try await pool.runIfActive { LDAPConnection.authenticate(user, password, with: directory) }
        switch outcome {
        case .success(let directoryGroups):
            let groups = directoryGroups.compactMap { directory.groups[$0] }.sorted()
            verified.insert(user: user, hash: binding, password: password, groups: groups)
            return .authenticated(user: user, groups: groups)
        case .refused:
            return .failed(keys: keys)
        case .unavailable(let reason):
            // Not the caller's fault: not counted, and said in the log (never the password).
            context.logger.warning("directory authenticator: \(reason)")
            return .failed(keys: [])
        }
    }
}

/// One LDAP session, opened, bound and closed within ``authenticate(_:_:with:)``, on a thread that may
/// block.
enum LDAPConnection {
    enum Outcome: Sendable {
        /// Bound; the values of the group attribute of the groups the user is in.
        case success([String])
        case refused
        case unavailable(String)
    }

    static func authenticate(_ user: String, _ password: SecretBytes, with directory: ServiceSettings.Directory)
        -> Outcome
    {
        var handle: OpaquePointer?
        guard ldap_initialize(&handle, directory.url) == LDAP_SUCCESS, let ld = handle else {
            return .unavailable("cannot use the directory URL \(directory.url.sanitizedForMessage)")
        }
        defer { ldap_unbind_ext_s(ld, nil, nil) }
        var version: Int32 = LDAP_VERSION3
        ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        var timeout = timeval(tv_sec: directory.timeoutSeconds, tv_usec: 0)
        ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout)
        ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout)
        // Referrals would send the bind elsewhere: never chase them (LDAP_OPT_OFF is a null pointer).
        ldap_set_option(ld, LDAP_OPT_REFERRALS, nil)
        if directory.startTLS || directory.url.lowercased().hasPrefix("ldaps:") {
            var demand: Int32 = LDAP_OPT_X_TLS_DEMAND
            ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)
            if let caBundle = directory.caBundle { ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, caBundle) }
            var server: Int32 = 0
            ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &server)
        }
        if directory.startTLS {
            let status = ldap_start_tls_s(ld, nil, nil)
            guard status == LDAP_SUCCESS else {
                return .unavailable("StartTLS with \(directory.url.sanitizedForMessage) failed: \(message(status))")
            }
        }
        let dn = directory.userDN.replacingOccurrences(of: "{user}", with: escapeDNValue(user))
        let status = password.withUnsafeBytes { bytes -> Int32 in
            var credential = berval(
                bv_len: ber_len_t(bytes.count),
                bv_val: UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: CChar.self)))
            return ldap_sasl_bind_s(ld, dn, nil, &credential, nil, nil, nil)
        }
        switch status {
        case LDAP_SUCCESS: break
        case LDAP_INVALID_CREDENTIALS, LDAP_INVALID_DN_SYNTAX, LDAP_NO_SUCH_OBJECT, LDAP_INAPPROPRIATE_AUTH,
            LDAP_UNWILLING_TO_PERFORM:
            return .refused
        default:
            return .unavailable("binding to \(directory.url.sanitizedForMessage) failed: \(message(status))")
        }
        guard let base = directory.groupBase else { return .success([]) }
        return .success(groups(ld, base: base, directory: directory, dn: dn, timeout: timeout))
    }

    private static func groups(
        _ ld: OpaquePointer, base: String, directory: ServiceSettings.Directory, dn: String, timeout: timeval
    ) -> [String] {
        let filter = directory.groupFilter.replacingOccurrences(of: "{dn}", with: escapeFilterValue(dn))
        var timeout = timeout
        var result: OpaquePointer?
        let attribute = strdup(directory.groupAttribute)
        defer { free(attribute) }
        var attributes: [UnsafeMutablePointer<CChar>?] = [attribute, nil]
        // LDAP_SCOPE_SUBTREE is 2 (RFC 4511, section 4.5.1.2); the header's cast macro is not imported.
        let status = ldap_search_ext_s(ld, base, 2, filter, &attributes, 0, nil, nil, &timeout, 1000, &result)
        defer { if let result { ldap_msgfree(result) } }
        guard status == LDAP_SUCCESS || status == LDAP_SIZELIMIT_EXCEEDED, let result else { return [] }
        var names: [String] = []
        var entry = ldap_first_entry(ld, result)
        while let current = entry {
            if let values = ldap_get_values_len(ld, current, directory.groupAttribute) {
                var index = 0
                while let value = values[index] {
                    let bytes = UnsafeRawBufferPointer(start: value.pointee.bv_val, count: Int(value.pointee.bv_len))
                    names.append(String(decoding: bytes, as: UTF8.self))
                    index += 1
                }
                ldap_value_free_len(values)
            }
            entry = ldap_next_entry(ld, current)
        }
        return names
    }

    private static func message(_ status: Int32) -> String {
        ldap_err2string(status).map { String(cString: $0) } ?? "LDAP error \(status)"
    }

    /// An attribute value for a DN (RFC 4514, section 2.4): `,+"\<>;=` and NUL escaped, and a leading
    /// space or `#` and a trailing space.
    static func escapeDNValue(_ value: String) -> String {
        var out = ""
        let scalars = Array(value.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            switch scalar {
            case ",", "+", "\"", "\\", "<", ">", ";", "=":
                out += "\\" + String(scalar)
            case "\u{0}":
                out += "\\00"
            case " " where index == 0 || index == scalars.count - 1, "#" where index == 0:
                out += "\\" + String(scalar)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A value for a search filter (RFC 4515, section 3): `*()\` and NUL as `\XX`.
    static func escapeFilterValue(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "*": out += "\\2a"
            case "(": out += "\\28"
            case ")": out += "\\29"
            case "\\": out += "\\5c"
            case "\u{0}": out += "\\00"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
