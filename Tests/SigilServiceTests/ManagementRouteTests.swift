import Foundation
import SigilModel
import SigilStore
import SigilTestSupport
import Testing

@Suite("Management over HTTP: configuration, secrets (write-only), items, audit, keys")
struct ManagementRouteTests {
    @Test("the configuration exports as YAML or JSON, and applies from either", arguments: TestStore.all)
    func configuration(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let yaml = try await service.send("GET", "/v1/config", as: .basic("olga"))
            #expect(yaml.status == 200)
            #expect(yaml.text.contains("name: Billing"))
            #expect(!yaml.text.contains(ServiceHarness.billingKey))
            let json = try await service.send("GET", "/v1/config?format=json", as: .basic("olga"))
            #expect(json.header("Content-Type") == "application/json")
            #expect((try json.json() as? [String: Any])?["roles"] != nil)

            let file = """
                externalCredentials:
                  - { name: Weather, protocol: custom, customHeaders: [{ name: X-Key, value: "{!$Credential.Weather.key}" }], principals: [{ name: org, type: named }] }
                namedCredentials:
                  - { name: Weather, url: "https://weather.example", externalCredential: Weather, generateAuthorizationHeader: false, allowMergeFieldsInHeader: true }
                """
            let dry = try await service.send(
                "PUT", "/v1/config?dryRun=true", as: .basic("olga"), body: Array(file.utf8))
            #expect(dry.status == 200, "\(dry.text)")
            #expect(try service.vault.catalog().externalCredential(named: "Weather") == nil)
            let applied = try await service.send("PUT", "/v1/config", as: .basic("olga"), body: Array(file.utf8))
            #expect(applied.status == 200, "\(applied.text)")
            #expect(try service.vault.catalog().externalCredential(named: "Weather") != nil)
            // The change is the caller's in the audit log.
            #expect(
                try service.vault.auditEntries(limit: 50).contains {
                    $0.actor == "olga" && $0.target == "external credential Weather"
                })
        }
    }

    @Test(
        "a file with env:, file: or stdin references is refused, naming the field, and nothing is written",
        arguments: TestStore.all)
    func references(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            for reference in ["env:HOME", "file:/etc/passwd", "stdin"] {
                let file = """
                    externalCredentials:
                      - { name: Leaky, protocol: basic, principals: [{ name: org, type: named, secrets: { password: "\(reference)" } }] }
                    """
                let answer = try await service.send("PUT", "/v1/config", as: .basic("ada"), body: Array(file.utf8))
                #expect(answer.status == 422, "\(answer.text)")
                #expect(answer.text.contains("principal Leaky/org, secrets.password"), "\(answer.text)")
                #expect(!answer.text.contains("root:"))
            }
            #expect(try service.vault.catalog().externalCredential(named: "Leaky") == nil)
        }
    }

    @Test(
        "roles and service settings are the admin's: an operator may not change them, even through a group",
        arguments: TestStore.all)
    func roles(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let cases = [
                "roles:\n  admin: [user:olga]\n",
                "service:\n  basic: { enabled: false }\n",
                "users:\n  - { name: alice, groups: [finance, ops] }\n",
            ]
            for file in cases {
                let answer = try await service.send("PUT", "/v1/config", as: .basic("olga"), body: Array(file.utf8))
                #expect(answer.status == 403, "\(file): \(answer.text)")
            }
            let promoted = try await service.send(
                "PUT", "/v1/config", as: .basic("ada"),
                body: Array("users:\n  - { name: alice, groups: [finance, ops] }\n".utf8))
            #expect(promoted.status == 200, "\(promoted.text)")
            #expect(try await service.send("GET", "/v1/audit", as: .basic("alice")).status == 200)
            let deleteAdmin = try await service.send("DELETE", "/v1/users/ada", as: .basic("olga"))
            #expect(deleteAdmin.status == 403)
        }
    }

    @Test("a secret is written through its own route, checked, and never read back", arguments: TestStore.all)
    func secrets(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let put = try await service.send(
                "PUT", "/v1/secrets/principals/Billing/billing-org/apiKey", as: .basic("olga"),
                body: Array("billing-secret-value-2".utf8))
            #expect(put.status == 200, "\(put.text)")
            #expect((try put.json() as? [String: String])?["version"] == "2")
            let statuses = try await service.send(
                "GET", "/v1/secrets/principals/Billing/billing-org", as: .basic("olga"))
            #expect(statuses.status == 200)
            #expect(statuses.text.contains("apiKey"))
            #expect(!statuses.text.contains("billing-secret-value"))
            let signed = try await service.send(
                "POST", "/v1/sign", as: .key("app"), json: ["method": "GET", "url": "callout:Billing/x"])
            #expect(signed.text.contains("billing-secret-value-2"))
            let unknown = try await service.send(
                "PUT", "/v1/secrets/principals/Example/nobody/apiKey", as: .basic("olga"), body: Array("x".utf8))
            #expect(unknown.status == 404, "\(unknown.text)")
            let empty = try await service.send(
                "PUT", "/v1/secrets/principals/Billing/billing-org/apiKey", as: .basic("olga"), body: [])
            #expect(empty.status == 400)
        }
    }

    @Test("items, deletion, auth status, the audit log (filtered) and the keys", arguments: TestStore.all)
    func itemsAuditKeys(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let items = try await service.send("GET", "/v1/items", as: .basic("olga"))
            #expect(items.status == 200)
            #expect(!items.text.contains(ServiceHarness.billingKey))
            #expect(try await service.send("GET", "/v1/named-credentials/Billing", as: .basic("olga")).status == 200)
            #expect(try await service.send("GET", "/v1/named-credentials/Nope", as: .basic("olga")).status == 404)
            // Path parameters are percent-decoded, as clients encode them.
            #expect(try await service.send("GET", "/v1/named-credentials/Bil%6Cing", as: .basic("olga")).status == 200)
            #expect(try await service.send("DELETE", "/v1/named-credentials/Example", as: .basic("olga")).status == 200)
            #expect(try service.vault.catalog().namedCredential(named: "Example") == nil)
            #expect(try await service.send("GET", "/v1/auth/status", as: .basic("alice")).status == 200)
            let audit = try await service.send("GET", "/v1/audit?credential=Example&limit=5", as: .basic("olga"))
            #expect(audit.status == 200)
            let entries = try #require(try audit.json() as? [[String: Any]])
            #expect(entries.contains { ($0["action"] as? String) == "delete" })
            #expect(try await service.send("GET", "/v1/audit?since=not-a-date", as: .basic("olga")).status == 400)
            let verify = try await service.send("GET", "/v1/audit/verify", as: .basic("olga"))
            #expect((try verify.json() as? [String: Any])?["valid"] as? Bool == true)
            let keys = try await service.send("GET", "/v1/keys", as: .basic("ada"))
            #expect(keys.status == 200)
            #expect(keys.text.contains("\"purpose\""))
        }
    }

    @Test(
        "a rotation through the service: start, test, finish, rollback; steps twice change nothing; conflicts say so",
        arguments: TestStore.all)
    func rotation(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let path = "/v1/rotations/principals/Billing/billing-org"
            #expect(try await service.send("GET", path, as: .basic("olga")).status == 404)
            let newKey = "billing-secret-value-2"
            let start = try await service.send(
                "POST", path + "/start", as: .basic("olga"),
                json: ["value_base64": Data(newKey.utf8).base64EncodedString()])
            #expect(start.status == 200, "\(start.text)")
            #expect(start.text.contains("\"step\":\"started\"") && !start.text.contains(newKey))
            let other = try await service.send(
                "POST", path + "/start", as: .basic("olga"),
                json: ["value_base64": Data("another-value-3".utf8).base64EncodedString()])
            #expect(other.status == 409 && other.errorCode == "rotation-state", "\(other.text)")
            #expect(try await service.send("POST", path + "/finish", as: .basic("olga")).status == 409)
            let tested = try await service.send("POST", path + "/test", as: .basic("olga"))
            #expect(tested.status == 200 && tested.text.contains("nothing to test"), "\(tested.text)")
            #expect(tested.text.contains("\"changed\":true"))
            let again = try await service.send("POST", path + "/test", as: .basic("olga"))
            #expect(again.status == 200 && again.text.contains("\"changed\":false"), "\(again.text)")
            let finished = try await service.send("POST", path + "/finish", as: .basic("olga"))
            #expect(finished.status == 200 && finished.text.contains("\"changed\":true"))
            #expect(
                try await service.send("POST", path + "/finish", as: .basic("olga")).text.contains("\"changed\":false"))
            let signed = try await service.send(
                "POST", "/v1/sign", as: .key("app"), json: ["method": "GET", "url": "callout:Billing/x"])
            #expect(signed.text.contains(newKey))
            #expect(try await service.send("POST", path + "/rollback", as: .basic("olga")).status == 200)
            let back = try await service.send(
                "POST", "/v1/sign", as: .key("app"), json: ["method": "GET", "url": "callout:Billing/x"])
            #expect(back.text.contains(ServiceHarness.billingKey))
            #expect(try await service.send("POST", path + "/bogus", as: .basic("olga")).status == 404)
            #expect(try await service.send("POST", path + "/start", as: .basic("olga")).status == 400)
            let audit = try service.vault.auditEntries(matching: AuditFilter(action: "rotation"))
            #expect(audit.map(\.actor).allSatisfy { $0 == "olga" } && audit.count == 4, "\(audit.map(\.action))")
            // A named credential's own secrets (its client identity's key) rotate the same way.
            let named = "/v1/rotations/named-credentials/Billing"
            #expect(try await service.send("GET", named, as: .basic("olga")).status == 404)
            let none = try await service.send(
                "POST", named + "/start", as: .basic("olga"),
                json: ["value_base64": Data("anything".utf8).base64EncodedString()])
            #expect(
                none.status == 409 && none.text.contains("named credential Billing has no stored secret"),
                "\(none.text)")
            #expect(try await service.send("POST", named + "/start", as: .key("app")).status == 403)
        }
    }

    @Test(
        "sigil serve rotates due secrets by itself, under the rotation lease, and exports the expiry calendar and rotation outcomes as metrics",
        arguments: TestStore.all)
    func scheduledRotation(store: TestStore) async throws {
        // A month from now, the Billing key (policy: every 30 days, generated, no grace) is due.
        let later = Date().addingTimeInterval(31 * 86_400)
        let configuration = ServiceHarness.configuration.replacingOccurrences(
            of: "- { name: billing-org, type: named }",
            with:
                "- { name: billing-org, type: named, rotation: { rotator: generated, every: 30d, grace: \"0\", length: 32 } }"
        )
        #expect(configuration != ServiceHarness.configuration)
        let service = try await ServiceHarness.start(
            store: store, clock: { later }, configuration: configuration, rotationInterval: .seconds(1))
        let owner = SecretOwner.principal(PrincipalRef(externalCredential: "Billing", principal: "billing-org"))
        // Bounded: the first pass comes a second after start.
        var state = try service.vault.rotation(of: owner)
        for _ in 0..<100 where state?.step != .cleaned {
            try await Task.sleep(for: .milliseconds(100))
            state = try service.vault.rotation(of: owner)
        }
        #expect(state?.step == .cleaned && state?.rotator == "generated", "\(String(describing: state))")
        let signed = try await service.send(
            "POST", "/v1/sign", as: .key("app"), json: ["method": "GET", "url": "callout:Billing/x"])
        #expect(signed.status == 200 && !signed.text.contains(ServiceHarness.billingKey), "\(signed.text)")
        let audit = try service.vault.auditEntries(matching: AuditFilter(action: "rotation"))
        #expect(audit.allSatisfy { $0.actor == "service" } && audit.contains { $0.action == "rotation.finish" })

        // Another process holding the lease keeps this one off the principal.
        let lease = try #require(
            try service.vault.acquireRotationLease(owner, holder: "elsewhere", duration: 3600).lease)
        #expect(try service.vault.acquireRotationLease(owner, holder: "sigil serve", duration: 60).lease == nil)
        try service.vault.releaseRotationLease(lease)

        let metrics = try await service.send("GET", "/metrics", as: .basic("olga"))
        #expect(metrics.text.contains("sigil_rotations_total{outcome=\"success\"}"), "\(metrics.text)")
        #expect(
            metrics.text.contains(
                "sigil_expiry_timestamp_seconds{what=\"secret rotation\",item=\"Billing/billing-org apiKey\"}"),
            "\(metrics.text)")
        try await service.stop()
    }
}
