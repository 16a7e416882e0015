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

    init(vault: Vault) throws {
        let catalog = try vault.catalog()
        for credential in catalog.externalCredentials {
            var principals: [PrincipalView] = []
            for principal in credential.principals {
                let reference = PrincipalRef(externalCredential: credential.name, principal: principal.name)
                principals.append(PrincipalView(
                    name: principal.name, type: principal.type.rawValue, sequence: principal.sequence, parameters: principal.parameters,
                    secrets: try vault.secretStatuses(of: .principal(reference)),
                    grantedTo: catalog.grant(for: reference)?.subjects.map(\.description) ?? []
                ))
            }
            externalCredentials.append(ExternalCredentialView(
                name: credential.name, protocol: credential.authProtocol.rawValue, parameters: credential.parameters,
                customHeaders: credential.customHeaders.map { Header(name: $0.name, value: $0.value) }, principals: principals,
                usedBy: catalog.namedCredentials.filter { $0.externalCredential == credential.name }.map(\.name)
            ))
        }
        for credential in catalog.namedCredentials {
            var identity: ClientIdentityView?
            if credential.clientCertificate != nil {
                let key = try vault.secretStatuses(of: .namedCredential(credential.name)).first { $0.field == NamedCredential.clientKeyField }
                identity = ClientIdentityView(certificate: "set", privateKey: key)
            }
            namedCredentials.append(NamedCredentialView(
                name: credential.name, url: credential.url, externalCredential: credential.externalCredential,
                generateAuthorizationHeader: credential.generateAuthorizationHeader,
                allowMergeFieldsInHeader: credential.allowMergeFieldsInHeader, allowMergeFieldsInBody: credential.allowMergeFieldsInBody,
                customHeaders: credential.customHeaders.map { Header(name: $0.name, value: $0.value) }, clientIdentity: identity
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
            for (key, value) in credential.parameters.sorted(by: { $0.key < $1.key }) { print("  parameter \(key): \(value)") }
            for header in credential.customHeaders { print("  header \(header.name): \(header.value)") }
            print("  used by: \(credential.usedBy.isEmpty ? "no named credential" : credential.usedBy.joined(separator: ", "))")
        }
        for principal in credential.principals {
            print("  principal \(principal.name): \(principal.type), sequence \(principal.sequence); secrets: \(Self.describe(principal.secrets))")
            if detailed {
                for (key, value) in principal.parameters.sorted(by: { $0.key < $1.key }) { print("    parameter \(key): \(value)") }
                print("    granted to: \(principal.grantedTo.isEmpty ? "nobody" : principal.grantedTo.joined(separator: ", "))")
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
            print("  client identity: certificate set; private key \(identity.privateKey.map { Self.describe([$0]) } ?? "unset")")
        }
    }
}
