import Foundation
import SigilModel
import SigilStore

/// What `list` and `show` print: the catalog with each secret's versions and stages, and never a
/// value. One shape for the text and the `--json` forms.
struct CatalogView: Encodable {
    struct Header: Encodable {
        var name: String
        var value: String
    }

    struct PrincipalView: Encodable {
        var name: String
        var type: String
        var sequence: Int
        var parameters: [String: String]
        var secrets: [SecretStatus]
        var grantedTo: [String]
    }

    struct ExternalCredentialView: Encodable {
        var name: String
        var `protocol`: String
        var parameters: [String: String]
        var customHeaders: [Header]
        var principals: [PrincipalView]
        var usedBy: [String]
    }

    struct ClientIdentityView: Encodable {
        var certificate: String
        var privateKey: SecretStatus?
        /// The leaf certificate (public); `nil` when the stored chain cannot be read.
        var subject: String?
        var issuer: String?
        var notBefore: String?
        var notAfter: String?
        var daysLeft: Int?
        /// `valid`, `expires-soon` (within the warning window), `expired`, `not-yet-valid`, or
        /// `unreadable`.
        var status: String
        var warningDays: Int
        /// Its SPKI pin, the form trust.pins takes.
        var pin: String?
        /// One line for people when the certificate needs attention.
        var warning: String?

        init(chain: String, privateKey: SecretStatus?, at now: Date, warningDays: Int) {
            certificate = "set"
            self.privateKey = privateKey
            self.warningDays = warningDays
            guard let leaf = try? CertificateInfo.chain(pem: chain).first else {
                status = "unreadable"
                warning = "the stored client certificate cannot be read"
                return
            }
            subject = leaf.subject
            issuer = leaf.issuer
            notBefore = leaf.notBefore.formatted(.iso8601)
            notAfter = leaf.notAfter.formatted(.iso8601)
            daysLeft = leaf.daysLeft(at: now)
            pin = leaf.pin
            let state = leaf.status(at: now, warningDays: warningDays)
            status = state.rawValue
            if state != .valid { warning = "client certificate " + leaf.summary(at: now, warningDays: warningDays) }
        }
    }

    struct TrustView: Encodable {
        var caBundle: String
        var pins: [String]
    }

    struct NamedCredentialView: Encodable {
        var name: String
        var url: String
        var externalCredential: String
        var generateAuthorizationHeader: Bool
        var allowMergeFieldsInHeader: Bool
        var allowMergeFieldsInBody: Bool
        var customHeaders: [Header]
        var clientIdentity: ClientIdentityView?
        var trust: TrustView?
    }

    struct UserView: Encodable {
        var name: String
        var groups: [String]
    }

    var externalCredentials: [ExternalCredentialView] = []
    var namedCredentials: [NamedCredentialView] = []
    var users: [UserView] = []
    var groups: [String] = []
    var authorizations: [AuthorizationStatus] = []

    /// `warningDays`: how long before a client certificate expires it is reported (as of `now`).
    init(vault: Vault, warningDays: Int = 30, now: Date = Date()) throws {
        let catalog = try vault.catalog()
        for credential in catalog.externalCredentials {
            var principals: [PrincipalView] = []
            for principal in credential.principals {
                let reference = PrincipalRef(externalCredential: credential.name, principal: principal.name)
                principals.append(
                    PrincipalView(
                        name: principal.name, type: principal.type.rawValue, sequence: principal.sequence,
                        parameters: principal.parameters,
                        secrets: try vault.secretStatuses(of: .principal(reference)),
                        grantedTo: catalog.grant(for: reference)?.subjects.map(\.description) ?? []
                    ))
            }
            externalCredentials.append(
                ExternalCredentialView(
                    name: credential.name, protocol: credential.authProtocol.rawValue,
                    parameters: credential.parameters,
                    customHeaders: credential.customHeaders.map { Header(name: $0.name, value: $0.value) },
                    principals: principals,
                    usedBy: catalog.namedCredentials.filter { $0.externalCredential == credential.name }.map(\.name)
                ))
        }
        for credential in catalog.namedCredentials {
            var identity: ClientIdentityView?
            if let chain = credential.clientCertificate {
                let key = try vault.secretStatuses(of: .namedCredential(credential.name)).first {
                    $0.field == NamedCredential.clientKeyField
                }
                identity = ClientIdentityView(chain: chain, privateKey: key, at: now, warningDays: warningDays)
            }
            namedCredentials.append(
                NamedCredentialView(
                    name: credential.name, url: credential.url, externalCredential: credential.externalCredential,
                    generateAuthorizationHeader: credential.generateAuthorizationHeader,
                    allowMergeFieldsInHeader: credential.allowMergeFieldsInHeader,
                    allowMergeFieldsInBody: credential.allowMergeFieldsInBody,
                    customHeaders: credential.customHeaders.map { Header(name: $0.name, value: $0.value) },
                    clientIdentity: identity,
                    trust: credential.trust.map {
                        TrustView(caBundle: $0.caBundle == nil ? "system roots" : "set", pins: $0.pins)
                    }
                ))
        }
        users = catalog.users.map { UserView(name: $0.name, groups: $0.groups) }
        groups = catalog.groups
        authorizations = try vault.authorizations()
    }

    // MARK: Text

    static func describe(_ statuses: [SecretStatus]) -> String {
        guard !statuses.isEmpty else { return "none" }
        return statuses.map { status in
            let versions = status.versions.map { "v\($0.version) \($0.stage)" }.joined(separator: ", ")
            return "\(status.field) set (\(versions))"
        }.joined(separator: "; ")
    }

    func printExternalCredential(_ credential: ExternalCredentialView, detailed: Bool) {
        print("External credential \(credential.name) (protocol \(credential.protocol))")
        if detailed {
            for (key, value) in credential.parameters.sorted(by: { $0.key < $1.key }) {
                print("  parameter \(key): \(value)")
            }
            for header in credential.customHeaders { print("  header \(header.name): \(header.value)") }
            print(
                "  used by: \(credential.usedBy.isEmpty ? "no named credential" : credential.usedBy.joined(separator: ", "))"
            )
        }
        for principal in credential.principals {
            print(
                "  principal \(principal.name): \(principal.type), sequence \(principal.sequence); secrets: \(Self.describe(principal.secrets))"
            )
            if detailed {
                for (key, value) in principal.parameters.sorted(by: { $0.key < $1.key }) {
                    print("    parameter \(key): \(value)")
                }
                print(
                    "    granted to: \(principal.grantedTo.isEmpty ? "nobody" : principal.grantedTo.joined(separator: ", "))"
                )
            }
        }
    }

    func printNamedCredential(_ credential: NamedCredentialView, detailed: Bool) {
        print("Named credential \(credential.name): \(credential.url) via \(credential.externalCredential)")
        if detailed {
            print("  generateAuthorizationHeader: \(credential.generateAuthorizationHeader)")
            print("  allowMergeFieldsInHeader: \(credential.allowMergeFieldsInHeader)")
            print("  allowMergeFieldsInBody: \(credential.allowMergeFieldsInBody)")
            for header in credential.customHeaders { print("  header \(header.name): \(header.value)") }
        }
        if let identity = credential.clientIdentity {
            print(
                "  client identity: certificate set; private key \(identity.privateKey.map { Self.describe([$0]) } ?? "unset")"
            )
            if detailed, let subject = identity.subject, let issuer = identity.issuer,
                let notBefore = identity.notBefore,
                let notAfter = identity.notAfter, let daysLeft = identity.daysLeft
            {
                print("    subject: \(subject)")
                print("    issuer: \(issuer)")
                print("    valid: \(notBefore) to \(notAfter) (\(daysLeft < 0 ? "expired" : "\(daysLeft) days left"))")
                if let pin = identity.pin { print("    pin: \(pin)") }
            }
            if let warning = identity.warning { print("  warning: \(warning)") }
        }
        if detailed, let trust = credential.trust {
            print(
                "  trust: CA bundle \(trust.caBundle); pins: \(trust.pins.isEmpty ? "none" : trust.pins.joined(separator: ", "))"
            )
        }
    }
}
