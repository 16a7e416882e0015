import Foundation
import SigilConfig
import SigilCore
import SigilModel
import Testing

@Suite("Configuration file: roles and the service's settings")
struct ServiceSettingsTests {
    @Test("the example's roles and service settings read, export and read back the same")
    func roundTrip() throws {
        let file = try ConfigFile(
            text: try String(contentsOfFile: examplePath, encoding: .utf8), fileName: "sigil.yaml")
        let roles = try #require(file.catalog.roles)
        #expect(roles.contains(RoleGrant(role: .admin, subject: .user("bob"))))
        #expect(roles.contains(RoleGrant(role: .app, subject: .user("invoicer"), actAs: true)))
        #expect(file.catalog.service?.failures.firstMilliseconds == 200)
        for json in [false, true] {
            let exported = try ConfigExport.text(of: file.catalog, json: json)
            let again = try ConfigFile(text: exported, fileName: json ? "export.json" : "export.yaml")
            #expect(again.catalog.roles == file.catalog.roles)
            #expect(again.catalog.service == file.catalog.service)
        }
    }

    @Test(
        "each mistake is named with its line and field",
        arguments: [
            ("roles:\n  root: [user:alice]\n", "test.yaml:2: roles: unknown key \"root\""),
            ("roles:\n  admin: [alice]\n", "roles.admin[0]"),
            ("roles:\n  admin: [{ subject: user:alice, actAs: maybe }]\n", "roles.admin[0].actAs"),
            ("service:\n  basic: { enabled: yes please }\n", "service.basic.enabled"),
            ("service:\n  sessions: {}\n", "unknown key \"sessions\""),
            ("service:\n  failures: { firstMilliseconds: fast }\n", "service.failures.firstMilliseconds"),
        ])
    func shapeErrors(text: String, expected: String) {
        let error = message { _ = try parse(text) }
        #expect(error.contains(expected), "\(error)")
    }

    @Test("the model's rules: subjects exist, actAs only for apps, bounds on delays, an allowlist for sessions")
    func rules() throws {
        let stored = Catalog(users: [User(name: "alice")])
        let cases = [
            ("roles:\n  admin: [user:nobody]\n", "roles, admin: user nobody does not exist"),
            ("roles:\n  operator: [{ subject: user:alice, actAs: true }]\n", "actAs is for the app role only"),
            ("service:\n  failures: { firstMilliseconds: 99999 }\n", "service settings, failures.firstMilliseconds"),
            ("service:\n  platformSession: { allowedHosts: [] }\n", "platformSession.allowedHosts"),
            ("service:\n  platformSession: { allowedHosts: [\"*.example\"] }\n", "is not a host"),
            (
                "service:\n  platformSession: { allowedHosts: [id.example], userField: name }\n",
                "platformSession.userField"
            ),
        ]
        for (text, expected) in cases {
            let file = try parse(text)
            let problem = file.problems(in: stored)
            #expect(problem?.reason.contains(expected) == true, "\(text): \(problem?.reason ?? "none")")
        }
        let off = try parse("service:\n  platformSession: { enabled: false }\n")
        #expect(off.catalog.service?.platformSession == nil)
        #expect(off.problems(in: stored) == nil)
    }
}
