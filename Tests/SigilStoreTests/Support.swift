import Foundation
import SigilCore
import SigilModel
import SigilStore
import SigilTestSupport

/// A fresh folder under the system's temporary directory.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "sigil-store-tests-\(UInt64.random(in: 0...UInt64.max))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A new vault on `store` (a file in a fresh folder, or a new PostgreSQL database), with its key.
func makeVault(_ store: TestStore = .sqlite, name: String = "vault.db") throws -> (
    vault: Vault, key: MasterKey, path: String
) {
    let path = try store.newVaultLocation(in: temporaryDirectory(), name: name)
    let key = MasterKey.generate()
    return (try Vault.create(at: path, key: .key(key), actor: "test"), key, path)
}

let billingRef = PrincipalRef(externalCredential: "Billing", principal: "billing-org")
let apiKeyTarget = SecretTarget(owner: .principal(billingRef), field: "apiKey")

/// The README's example, as a request.
func exampleRequest(apiKey: String = "billing-secret-1") -> ApplyRequest {
    ApplyRequest(
        catalog: Catalog(
            externalCredentials: [
                ExternalCredential(
                    name: "Billing", authProtocol: .custom,
                    customHeaders: [CustomHeader(name: "X-Api-Key", value: "{!$Credential.Billing.apiKey}")],
                    principals: [Principal(name: "billing-org", type: .named, sequence: 1)]
                ),
                ExternalCredential(
                    name: "Calendar", authProtocol: .basic,
                    principals: [Principal(name: "per-user", type: .perUser, sequence: 1)]
                ),
            ],
            namedCredentials: [
                NamedCredential(
                    name: "Billing", url: "https://api.billing.example/v1", externalCredential: "Billing",
                    generateAuthorizationHeader: false, allowMergeFieldsInHeader: true)
            ],
            users: [User(name: "alice", groups: ["finance"])],
            grants: [Grant(principal: billingRef, subjects: [.group("finance")])]
        ),
        secrets: [apiKeyTarget: SecretBytes(utf8: apiKey)]
    )
}
