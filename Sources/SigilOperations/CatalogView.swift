public import Foundation
import SigilModel
public import SigilStore

/// What `list` and `show` print: the catalog with each secret's versions and stages, and never a
/// value. One shape for the text and the `--json` forms.
public struct CatalogView: Encodable, Sendable {
    public struct Header: Encodable, Sendable {
        public var name: String
        public var value: String
    }

    public struct PrincipalView: Encodable, Sendable {
        public var name: String
        public var type: String
        public var sequence: Int
        public var parameters: [String: String]
        public var secrets: [SecretStatus]
        public var grantedTo: [String]
    }

    public struct ExternalCredentialView: Encodable, Sendable {
        public var name: String
        public var `protocol`: String
        public var parameters: [String: String]
        public var customHeaders: [Header]
        public var principals: [PrincipalView]
        public var usedBy: [String]
    }

    public struct ClientIdentityView: Encodable, Sendable {
        public var certificate: String
        public var privateKey: SecretStatus?
        /// The leaf certificate (public); `nil` when the stored chain cannot be read.
        public var subject: String?
        public var issuer: String?
        public var notBefore: String?
        public var notAfter: String?
        public var daysLeft: Int?
        /// `valid`, `expires-soon` (within the warning window), `expired`, `not-yet-valid`, or
        /// `unreadable`.
        public var status: String
        public var warningDays: Int
        /// Its SPKI pin, the form trust.pins takes.
        public var pin: String?
        /// One line for people when the certificate needs attention.
        public var warning: String?

        public init(chain: String, privateKey: SecretStatus?, at now: Date, warningDays: Int) {
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

    public struct TrustView: Encodable, Sendable {
        public var caBundle: String
        public var pins: [String]
    }

    public struct NamedCredentialView: Encodable, Sendable {
        public var name: String
        public var url: String
        public var externalCredential: String
        public var generateAuthorizationHeader: Bool
        public var allowMergeFieldsInHeader: Bool
        public var allowMergeFieldsInBody: Bool
        public var customHeaders: [Header]
        public var clientIdentity: ClientIdentityView?
        public var trust: TrustView?
    }

    public struct UserView: Encodable, Sendable {
        public var name: String
        public var groups: [String]
    }

    public var externalCredentials: [ExternalCredentialView] = []
    public var namedCredentials: [NamedCredentialView] = []
    public var users: [UserView] = []
    public var groups: [String] = []
    public var authorizations: [AuthorizationStatus] = []

    /// `warningDays`: how long before a client certificate expires it is reported (as of `now`).
    public init(vault: Vault, warningDays: Int = 30, now: Date = Date()) throws {
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
}
