import SigilCore
import SigilModel
import Testing

@Suite("Catalog: model rules and merging")
struct CatalogTests {
    static let billing = ExternalCredential(
        name: "Billing", authProtocol: .custom,
        customHeaders: [CustomHeader(name: "X-Api-Key", value: "{!$Credential.Billing.apiKey}")],
        principals: [Principal(name: "billing-org", type: .named, sequence: 1)]
    )
    static let base = Catalog(
        externalCredentials: [billing],
        namedCredentials: [
            NamedCredential(
                name: "Billing", url: "https://api.billing.example/v1", externalCredential: "Billing",
                generateAuthorizationHeader: false)
        ],
        users: [User(name: "alice@example.com", groups: ["finance"])],
        grants: [
            Grant(
                principal: PrincipalRef(externalCredential: "Billing", principal: "billing-org"),
                subjects: [.group("finance"), .user("alice@example.com")])
        ]
    )

    @Test("a well-formed catalog has no issues; users declare their groups")
    func valid() {
        #expect(Self.base.issues().isEmpty)
        #expect(Self.base.groups == ["finance"])
    }

    @Test("each broken rule is reported with its item and field")
    func issues() {
        var credential = Self.billing
        credential.name = "Bad.Name"
        credential.principals.append(Principal(name: "second", type: .perUser, sequence: 1))
        credential.customHeaders.append(CustomHeader(name: "X-Evil", value: "a\r\nInjected: yes"))
        credential.customHeaders.append(CustomHeader(name: "Host", value: "elsewhere"))
        credential.parameters = ["scope-x": "a"]
        let catalog = Catalog(
            externalCredentials: [credential],
            namedCredentials: [
                NamedCredential(name: "Plain", url: "http://api.example", externalCredential: "Missing")
            ],
            grants: [
                Grant(
                    principal: PrincipalRef(externalCredential: "Nope", principal: "p"),
                    subjects: [.group("ghosts"), .user("nobody")])
            ]
        )
        let text = catalog.issues().map(\.description)
        let expected = [
            "external credential Bad.Name, name: must be a letter, then letters, digits, '_' or '-' (character 4 of 8 is not)",
            "principal Bad.Name/second, sequence: 1 is already the sequence of principal billing-org",
            "external credential Bad.Name, customHeaders[1]: header X-Evil has a control character (CR, LF, NUL, BEL...) in its value",
            "external credential Bad.Name, customHeaders[2]: header Host is set by the HTTP client and cannot be a custom header",
            "external credential Bad.Name, parameters: parameter name must be a letter, then letters, digits or '_' (character 6 of 7 is not)",
            "named credential Plain, url: http://api.example uses plain http to api.example; http is allowed only to loopback addresses, use https",
            "named credential Plain, externalCredential: names Missing, which does not exist",
            "grants of principal Nope/p, principal: principal Nope/p does not exist",
            "grants of principal Nope/p, to: group ghosts does not exist",
            "grants of principal Nope/p, to: user nobody does not exist",
        ]
        for line in expected {
            #expect(text.contains(line), "missing: \(line)\n got: \(text)")
        }
        #expect(text.count == expected.count, "\(text)")
    }

    @Test("Authorization set by hand while the protocol generates it is refused")
    func authorizationConflict() {
        var credential = Self.billing
        credential.authProtocol = .basic
        credential.customHeaders = [CustomHeader(name: "Authorization", value: "Basic x")]
        let catalog = Catalog(
            externalCredentials: [credential],
            namedCredentials: [NamedCredential(name: "N", url: "https://a.example", externalCredential: "Billing")]
        )
        #expect(
            catalog.issues().map(\.description) == [
                "named credential N, customHeaders: sets Authorization while generateAuthorizationHeader is on; turn one of them off"
            ])
    }

    @Test("merging replaces items by name, merges principals, removes nothing")
    func merging() {
        let update = Catalog(
            externalCredentials: [
                ExternalCredential(
                    name: "Billing", authProtocol: .custom, parameters: ["tier": "gold"],
                    principals: [Principal(name: "backup", type: .named, sequence: 2)]
                )
            ],
            users: [User(name: "bob", groups: ["ops"])],
            grants: [
                Grant(
                    principal: PrincipalRef(externalCredential: "Billing", principal: "billing-org"),
                    subjects: [.user("bob")])
            ]
        )
        let merged = Self.base.merging(update)
        let billing = merged.externalCredential(named: "Billing")
        #expect(billing?.parameters == ["tier": "gold"])
        #expect(billing?.customHeaders == [])
        #expect(billing?.principals.map(\.name) == ["billing-org", "backup"])
        #expect(merged.users.map(\.name) == ["alice@example.com", "bob"])
        #expect(merged.groups == ["finance", "ops"])
        #expect(merged.grants.first?.subjects == [.user("bob")])
        #expect(merged.namedCredentials.count == 1)
        #expect(merged.issues().isEmpty)
        // Idempotent.
        #expect(merged.merging(update) == merged)
    }

    @Test("names follow the documented patterns")
    func names() {
        #expect(Names.problem(withItemName: "billing-org_2") == nil)
        #expect(Names.problem(withItemName: "2fa") != nil)
        #expect(Names.problem(withItemName: String(repeating: "a", count: 65)) != nil)
        #expect(Names.problem(withFieldName: "apiKey") == nil)
        #expect(Names.problem(withFieldName: "api-key") != nil)
        #expect(Names.problem(withUserName: "alice+ops@example.com") == nil)
        #expect(Names.problem(withUserName: "alice smith") != nil)
        #expect(PrincipalRef(parsing: "A/b") == PrincipalRef(externalCredential: "A", principal: "b"))
        #expect(PrincipalRef(parsing: "A/b/c") == nil)
        #expect(GrantSubject(parsing: "group:finance") == .group("finance"))
        #expect(GrantSubject(parsing: "finance") == nil)
    }
}
