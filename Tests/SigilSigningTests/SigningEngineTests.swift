import Foundation
import SigilCore
import SigilModel
import SigilSigning
import Synchronization
import Testing

@Suite("Signing engine: callouts, principals, headers")
struct SigningEngineTests {
    static let catalog = Catalog(
        externalCredentials: [
            ExternalCredential(
                name: "Billing", authProtocol: .custom, parameters: ["tier": "gold"],
                customHeaders: [CustomHeader(name: "X-Api-Key", value: "{!$Credential.Billing.apiKey}")],
                principals: [
                    Principal(name: "backup", type: .named, sequence: 2),
                    Principal(name: "primary", type: .named, sequence: 1),
                ]
            ),
            ExternalCredential(
                name: "Calendar", authProtocol: .basic,
                principals: [
                    Principal(name: "service", type: .named, sequence: 5, parameters: ["username": "svc"]),
                    Principal(
                        name: "mine", type: .perUser, sequence: 9,
                        parameters: ["username": "ignored-for-per-user-secret"]),
                ]
            ),
        ],
        namedCredentials: [
            NamedCredential(
                name: "Billing", url: "https://api.billing.example/v1", externalCredential: "Billing",
                generateAuthorizationHeader: false, allowMergeFieldsInHeader: true,
                customHeaders: [CustomHeader(name: "X-Team", value: "payments")]),
            NamedCredential(
                name: "BillingV2", url: "https://api.billing.example/v1/v2", externalCredential: "Billing",
                allowMergeFieldsInHeader: true),
            NamedCredential(
                name: "Calendar", url: "http://127.0.0.1:8080/cal", externalCredential: "Calendar",
                allowMergeFieldsInHeader: true,
                customHeaders: [CustomHeader(name: "X-Echo", value: "{!$Credential.AuthorizationHeaderValue}")]),
            NamedCredential(name: "Strict", url: "https://strict.example", externalCredential: "Billing"),
        ],
        users: [User(name: "alice", groups: ["finance"]), User(name: "bob", groups: ["ops"]), User(name: "carol")],
        grants: [
            Grant(
                principal: PrincipalRef(externalCredential: "Billing", principal: "backup"),
                subjects: [.group("finance"), .user("carol")]),
            Grant(
                principal: PrincipalRef(externalCredential: "Billing", principal: "primary"),
                subjects: [.group("finance")]),
            Grant(
                principal: PrincipalRef(externalCredential: "Calendar", principal: "service"),
                subjects: [.group("finance"), .group("ops")]),
            Grant(
                principal: PrincipalRef(externalCredential: "Calendar", principal: "mine"),
                subjects: [.group("finance"), .group("ops")]),
        ]
    )

    static let engine = SigningEngine(
        source: MemorySource(
            catalog,
            secrets: [
                principalSecret("Billing", "primary", "apiKey"): "primary-key",
                principalSecret("Billing", "backup", "apiKey"): "backup-key",
                principalSecret("Calendar", "service", "password"): "svc-password",
                userSecret("Calendar", "mine", "alice", "password"): "alice-password",
            ],
            authorizations: [PrincipalRef(externalCredential: "Calendar", principal: "mine"): ["alice"]]
        ))

    func sign(
        _ url: String, as user: String? = nil, method: String = "GET", headers: [(name: String, value: String)] = [],
        body: OutboundRequest.Body = .none
    ) async throws -> DecoratedRequest {
        try await Self.engine.decorate(
            OutboundRequest(method: method, url: url, headers: headers, body: body), as: user)
    }

    func header(_ request: DecoratedRequest, _ name: String) -> String? {
        request.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    @Test("a callout resolves against its base URL and gets the credential's headers in order")
    func callout() async throws {
        let signed = try await sign(
            "callout:Billing/invoices/42?expand=lines&x=%20",
            headers: [("Accept", "application/json"), ("x-api-key", "caller's own")])
        #expect(signed.url == "https://api.billing.example/v1/invoices/42?expand=lines&x=%20")
        #expect(signed.headers.map(\.name) == ["Accept", "X-Api-Key", "X-Team"])
        #expect(header(signed, "X-Api-Key") == "primary-key")
        #expect(signed.principal == PrincipalRef(externalCredential: "Billing", principal: "primary"))
        #expect(try await sign("callout:Billing").url == "https://api.billing.example/v1")
        #expect(try await sign("callout:Billing?q=1").url == "https://api.billing.example/v1?q=1")
    }

    @Test("an absolute URL picks the one named credential with the longest base URL under it")
    func absolute() async throws {
        #expect(try await sign("https://api.billing.example/v1/invoices").namedCredential == "Billing")
        #expect(try await sign("https://api.billing.example/v1/v2/x").namedCredential == "BillingV2")
        #expect(try await sign("https://api.billing.example/v1/v2x").namedCredential == "Billing")
    }

    @Test(
        "a credential is never sent outside its endpoint",
        arguments: [
            "callout:Billing/../admin",
            "callout:Billing/a/%2E%2e/admin",
            "callout:Billing/a/./b",
            "callout:Billing//evil.example/x",
            "callout:Billing/a%2Fb",
            "callout:Billing/a%5cb",
            "callout:Billing/a\\b",
            "callout:Billing/x#fragment",
            "callout:Billing/a b",
            "callout:Billing/caf\u{e9}",
            "callout:Billing/x\r\nHost: evil",
            "callout:Billing/%zz",
            "callout:Billing@evil.example/x",
            "callout:Unknown/x",
            "https://evil.example/v1",
            "https://api.billing.example/v1evil",
            "https://api.billing.example:444/v1/x",
            "http://api.billing.example/v1/x",
            "https://user@api.billing.example/v1/x",
            // Escapes that are not UTF-8: Foundation drops such a path and the request went to "/".
            "callout:Billing/%ff",
            "callout:Billing/a/%c0%ae%c0%ae/admin?q=1",
            "callout:Billing/%e2%82",
            "callout:Billing/%ed%a0%80",
            // Path parameters after a dot segment: servlet containers resolve "..;" as "..".
            "callout:Billing/..;/admin",
            "callout:Billing/a/.;x/b",
            "callout:Billing/%2e%2e;jsessionid=1/admin",
            "callout:Billing/..%3b/admin",
        ])
    func refused(url: String) async {
        let error = await #expect(throws: SigilError.self) { try await sign(url) }
        #expect(error?.code == .calloutRefused, "\(url): \(error?.reason ?? "")")
    }

    @Test("the URL signed is the URL sent: characters HTTP clients encode are encoded first, UTF-8 escapes pass")
    func encodedAsSent() async throws {
        #expect(
            try await sign("callout:Billing/items?filter[name]={a|b}").url
                == "https://api.billing.example/v1/items?filter%5Bname%5D=%7Ba%7Cb%7D")
        #expect(
            try await sign("callout:Billing/%e2%82%ac/x;v=1?q=%ff").url
                == "https://api.billing.example/v1/%e2%82%ac/x;v=1?q=%ff")
        #expect(try await sign("callout:Billing/.../..x/x..").url == "https://api.billing.example/v1/.../..x/x..")
    }

    @Test("a URL's user information is never quoted in an error")
    func userInformationNotQuoted() async {
        let error = await #expect(throws: SigilError.self) { try await sign("https://alice:hunter2@evil.example/v1") }
        #expect(error?.reason.contains("hunter2") == false)
        #expect(error?.reason.contains("https://***@evil.example/v1") == true)
    }

    @Test("principal choice: authorized per-user first, then granted named principals by sequence")
    func principals() async throws {
        // Alice authorized her own per-user principal: it wins over the named one (sequence 5 < 9).
        let alice = try await sign("callout:Calendar/events", as: "alice")
        #expect(alice.principal.principal == "mine")
        #expect(
            header(alice, "Authorization") == "Basic "
                + Data("ignored-for-per-user-secret:alice-password".utf8).base64EncodedString())
        // Bob may use it but has not authorized it: the named principal.
        #expect(try await sign("callout:Calendar/events", as: "bob").principal.principal == "service")
        // Granted both named principals of Billing: the lowest sequence.
        #expect(try await sign("callout:Billing/x", as: "alice").principal.principal == "primary")
        // Carol is granted only the backup.
        let carol = try await sign("callout:Billing/x", as: "carol")
        #expect(carol.principal.principal == "backup" && header(carol, "X-Api-Key") == "backup-key")
        // Bob has nothing on Billing.
        let none = await #expect(throws: SigilError.self) { try await sign("callout:Billing/x", as: "bob") }
        #expect(none?.code == .noPrincipal)
        #expect(
            none?.reason.contains("external credential Billing") == true && none?.reason.contains("user bob") == true)
        let unknown = await #expect(throws: SigilError.self) { try await sign("callout:Billing/x", as: "mallory") }
        #expect(unknown?.reason == "user mallory does not exist")
    }

    @Test("Basic: RFC 7617's example, generated Authorization reused in a merge field")
    func basic() async throws {
        let source = MemorySource(
            Catalog(
                externalCredentials: [
                    ExternalCredential(
                        name: "B", authProtocol: .basic,
                        principals: [
                            Principal(name: "p", type: .named, sequence: 1, parameters: ["username": "Aladdin"])
                        ])
                ],
                namedCredentials: [NamedCredential(name: "B", url: "https://b.example", externalCredential: "B")]
            ),
            secrets: [principalSecret("B", "p", "password"): "open sesame"]
        )
        let signed = try await SigningEngine(source: source).decorate(OutboundRequest(url: "callout:B/"))
        #expect(header(signed, "Authorization") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        let calendar = try await sign("callout:Calendar/x")
        #expect(header(calendar, "X-Echo") == header(calendar, "Authorization"))
        // The caller's own Authorization is replaced: the credential's value wins, and only one is sent.
        let replaced = try await sign("callout:Calendar/x", headers: [("authorization", "Bearer mine")])
        #expect(
            replaced.headers.filter { $0.name.lowercased() == "authorization" }.map(\.value) == [
                header(calendar, "Authorization")!
            ])
    }

    @Test(
        "a missing secret, a colon in a Basic user-id, and an OAuth 2.0 credential without an issuer are clear errors")
    func missingSecret() async throws {
        let source = MemorySource(
            Catalog(
                externalCredentials: [
                    ExternalCredential(
                        name: "B", authProtocol: .basic,
                        principals: [Principal(name: "p", type: .named, sequence: 1, parameters: ["username": "a"])]),
                    ExternalCredential(
                        name: "C", authProtocol: .basic,
                        principals: [Principal(name: "p", type: .named, sequence: 1, parameters: ["username": "a:b"])]),
                    ExternalCredential(
                        name: "J", authProtocol: .oauth2,
                        parameters: ["tokenUrl": "https://j.example/token", "clientId": "c"],
                        principals: [Principal(name: "p", type: .named, sequence: 1)]),
                ],
                namedCredentials: [
                    NamedCredential(name: "B", url: "https://b.example", externalCredential: "B"),
                    NamedCredential(name: "C", url: "https://c.example", externalCredential: "C"),
                    NamedCredential(name: "J", url: "https://j.example", externalCredential: "J"),
                ]
            ),
            secrets: [:]
        )
        let engine = SigningEngine(source: source)
        let missing = await #expect(throws: SigilError.self) {
            try await engine.decorate(OutboundRequest(url: "callout:B/"))
        }
        #expect(
            missing?.reason
                == "Basic authentication needs secret password, which principal B/p does not have; set it with `sigil secret set B/p password`"
        )
        let unsupported = await #expect(throws: SigilError.self) {
            try await engine.decorate(OutboundRequest(url: "callout:J/"))
        }
        #expect(
            unsupported?.reason.contains(
                "signs with credentials obtained from a provider (oauth2), and this engine has no issuer") == true)
        // A colon in a user-id parameter is a setting that does not parse (sigil apply refuses it).
        let withPassword = SigningEngine(
            source: MemorySource(source.catalogSnapshot.catalog, secrets: [principalSecret("C", "p", "password"): "x"]))
        let colon = await #expect(throws: SigilError.self) {
            try await withPassword.decorate(OutboundRequest(url: "callout:C/"))
        }
        #expect(colon?.reason.contains("contains ':'") == true)
        #expect(colon?.code == .invalidParameter)
        #expect(missing?.code == .missingSecret)
        #expect(unsupported?.code == .unsupported)
    }

    @Test(
        "merge fields need the named credential's permission, stay within their credential, and cannot inject headers")
    func mergeFieldRules() async throws {
        let strict = await #expect(throws: SigilError.self) { try await sign("callout:Strict/x") }
        #expect(strict?.reason.contains("does not allow them in headers (allowMergeFieldsInHeader)") == true)

        var catalog = Self.catalog
        catalog = catalog.merging(
            Catalog(namedCredentials: [
                NamedCredential(
                    name: "Billing", url: "https://api.billing.example/v1", externalCredential: "Billing",
                    generateAuthorizationHeader: false,
                    allowMergeFieldsInHeader: true,
                    customHeaders: [CustomHeader(name: "X-Steal", value: "{!$Credential.Calendar.password}")]
                )
            ]))
        let cross = await #expect(throws: SigilError.self) {
            try await SigningEngine(
                source: MemorySource(catalog, secrets: [principalSecret("Billing", "primary", "apiKey"): "k"])
            )
            .decorate(OutboundRequest(url: "callout:Billing/x"))
        }
        #expect(cross?.reason.contains("a credential is sent only to its own endpoint") == true)

        let injecting = SigningEngine(
            source: MemorySource(
                Self.catalog, secrets: [principalSecret("Billing", "primary", "apiKey"): "k\r\nX-Injected: 1"]))
        let injection = await #expect(throws: SigilError.self) {
            try await injecting.decorate(OutboundRequest(url: "callout:Billing/x"))
        }
        #expect(injection?.reason.contains("control character (CR, LF, NUL...) after merge fields") == true)

        let badCaller = await #expect(throws: SigilError.self) {
            try await sign("callout:Billing/x", headers: [("X-A", "1\r\nX-B: 2")])
        }
        #expect(badCaller?.reason.contains("control character") == true)
        let bell = await #expect(throws: SigilError.self) {
            try await sign("callout:Billing/x", headers: [("X-A", "ring\u{07}")])
        }
        #expect(bell?.reason.contains("control character") == true)
        #expect(
            try await sign("callout:Billing/x", headers: [("X-A", "tab\tand caf\u{e9}")]).headers.contains {
                $0.value == "tab\tand caf\u{e9}"
            })
        // Routing and framing headers belong to the HTTP client, for every front door: a caller's
        // Host would send the credential to another virtual host on a shared front end.
        for name in [
            "Host", "content-length", "Transfer-Encoding", "Connection", "TE", "Upgrade", "Proxy-Connection",
            "Keep-Alive", "Trailer", "Proxy-Authorization",
        ] {
            let reserved = await #expect(throws: SigilError.self) {
                try await sign("callout:Billing/x", headers: [(name, "other.example")])
            }
            #expect(reserved?.reason.contains("header \(name) is set by the HTTP client") == true, "\(name)")
        }
        let badName = await #expect(throws: SigilError.self) {
            try await sign("callout:Billing/x", headers: [("X A", "1")])
        }
        #expect(badName?.reason.contains("not a valid HTTP field name") == true)

        let parameter = try await SigningEngine(
            source: MemorySource(
                Self.catalog.merging(
                    Catalog(externalCredentials: [
                        ExternalCredential(
                            name: "Billing", authProtocol: .custom, parameters: ["tier": "gold"],
                            customHeaders: [CustomHeader(name: "X-Tier", value: "{!$Credential.Billing.tier}")],
                            principals: [Principal(name: "primary", type: .named, sequence: 1)]
                        )
                    ])))
        ).decorate(OutboundRequest(url: "callout:Billing/x"))
        #expect(header(parameter, "X-Tier") == "gold")
    }

    @Test("merge fields in the body only when the named credential allows them")
    func body() async throws {
        let body = OutboundRequest.Body.bytes(Array("key={!$Credential.Billing.apiKey}".utf8))
        let untouched = try await sign("callout:Billing/x", method: "POST", body: body)
        #expect(untouched.body == Array("key={!$Credential.Billing.apiKey}".utf8))
        let catalog = Self.catalog.merging(
            Catalog(namedCredentials: [
                NamedCredential(
                    name: "Billing", url: "https://api.billing.example/v1", externalCredential: "Billing",
                    generateAuthorizationHeader: false,
                    allowMergeFieldsInHeader: true, allowMergeFieldsInBody: true
                )
            ]))
        let merged = try await SigningEngine(
            source: MemorySource(catalog, secrets: [principalSecret("Billing", "primary", "apiKey"): "pk"])
        )
        .decorate(OutboundRequest(method: "POST", url: "callout:Billing/x", body: body))
        #expect(merged.body == Array("key=pk".utf8))
    }

    @Test("the decorated request never prints its secrets")
    func redacted() async throws {
        let signed = try await sign("callout:Billing/x")
        var dumped = ""
        dump(signed, to: &dumped)
        for text in [signed.description, String(reflecting: signed), "\(signed)", dumped] {
            #expect(!text.contains("primary-key"))
        }
    }

    @Test("--explain: every step, and no secret, only fingerprints")
    func explain() async throws {
        let trace = SigningTrace()
        _ = try await Self.engine.decorate(OutboundRequest(url: "callout:Calendar/events"), as: "alice", trace: trace)
        let text = trace.render { _ in "fp:test" }
        #expect(
            text.contains(
                "callout: GET callout:Calendar/events -> named credential Calendar -> http://127.0.0.1:8080/cal/events")
        )
        #expect(text.contains("principal: Calendar/mine (per-user, sequence 9) for user alice"))
        #expect(text.contains("protocol: basic of external credential Calendar; Authorization generated"))
        #expect(text.contains("header Authorization: [secret fp:test]"))
        #expect(
            text.contains(
                "header X-Echo (named credential Calendar): {!$Credential.AuthorizationHeaderValue} -> [secret fp:test]"
            ))
        #expect(!text.contains("alice-password") && !text.contains("Basic "))
    }

    @Test(
        "--explain is redacted by construction: SigV4's signature and session token by fingerprint, a one-letter secret does not garble the text"
    )
    func explainByConstruction() async throws {
        let catalog = Catalog(
            externalCredentials: [
                ExternalCredential(
                    name: "Aws", authProtocol: .awsSigV4, parameters: ["region": "us-east-1", "service": "sts"],
                    principals: [Principal(name: "p", type: .named, sequence: 1)]),
                ExternalCredential(
                    name: "Short", authProtocol: .basic,
                    principals: [Principal(name: "p", type: .named, sequence: 1, parameters: ["username": "u"])]),
            ],
            namedCredentials: [
                NamedCredential(name: "Aws", url: "https://sts.amazonaws.com", externalCredential: "Aws"),
                NamedCredential(name: "Short", url: "https://api.example", externalCredential: "Short"),
            ]
        )
        let engine = SigningEngine(
            source: MemorySource(
                catalog,
                secrets: [
                    principalSecret("Aws", "p", "accessKeyId"): "AKIDEXAMPLE",
                    principalSecret("Aws", "p", "secretAccessKey"): "wJalrXUtnFEMI",
                    principalSecret("Aws", "p", "sessionToken"): "session-token-value",
                    principalSecret("Short", "p", "password"): "a",
                ]))
        let trace = SigningTrace()
        let signed = try await engine.decorate(
            OutboundRequest(url: "callout:Aws/?Action=GetCallerIdentity&Version=2011-06-15"), trace: trace)
        let text = trace.render { _ in "fp" }
        let signature = try #require(
            signed.headers.first { $0.name == "Authorization" }?.value.components(separatedBy: "Signature=").last)
        #expect(!text.contains(signature) && !text.contains("session-token-value"), "\(text)")
        #expect(text.contains("Signature=[secret fp]") && text.contains("x-amz-security-token:[secret fp]"), "\(text)")
        #expect(text.contains("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "the key id is public: \(text)")

        let short = SigningTrace()
        _ = try await engine.decorate(OutboundRequest(url: "callout:Short/data"), trace: short)
        let shortText = short.render { _ in "fp" }
        #expect(
            shortText.contains("callout: GET callout:Short/data -> named credential Short -> https://api.example/data"),
            "\(shortText)")
        #expect(shortText.contains("header Authorization: [secret fp]"), "\(shortText)")
    }
}

/// A source whose catalog can be replaced, as the vault's is by `sigil apply` in another process.
final class ReplaceableSource: CredentialSource {
    private let current: Mutex<CatalogSnapshot>
    let secrets: [SecretTarget: SecretBytes]

    init(_ catalog: Catalog, secrets: [SecretTarget: String]) {
        current = Mutex(CatalogSnapshot(catalog))
        self.secrets = secrets.mapValues { SecretBytes(utf8: $0) }
    }

    func replace(_ catalog: Catalog, authorized: [PrincipalRef: Set<String>]? = nil) {
        current.withLock { $0 = CatalogSnapshot(catalog, authorizedUsers: authorized) }
    }
    func catalog() throws -> Catalog { current.withLock { $0.catalog } }
    func snapshot() throws -> CatalogSnapshot { current.withLock { $0 } }
    func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes? { secrets[target] }
    func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> { [] }
}

@Suite("Signing engine: routes kept per catalog snapshot")
struct RouteTests {
    static func catalog(url: String, principal: String) -> Catalog {
        Catalog(
            externalCredentials: [
                ExternalCredential(
                    name: "Api", authProtocol: .basic,
                    principals: [
                        Principal(name: "old", type: .named, sequence: 1, parameters: ["username": "old"]),
                        Principal(
                            name: "new", type: .named, sequence: principal == "new" ? 0 : 2,
                            parameters: ["username": "new"]),
                    ])
            ],
            namedCredentials: [NamedCredential(name: "Api", url: url, externalCredential: "Api")]
        )
    }

    @Test("a new snapshot's endpoint and principal order are used at once; an invalid URL fails only its own requests")
    func newSnapshot() async throws {
        let source = ReplaceableSource(
            Self.catalog(url: "https://one.example/v1", principal: "old"),
            secrets: [
                principalSecret("Api", "old", "password"): "p1", principalSecret("Api", "new", "password"): "p2",
            ])
        let engine = SigningEngine(source: source)
        let first = try await engine.decorate(OutboundRequest(url: "callout:Api/items"))
        #expect(first.url == "https://one.example/v1/items" && first.principal.principal == "old")
        source.replace(Self.catalog(url: "https://two.example/v2", principal: "new"))
        let second = try await engine.decorate(OutboundRequest(url: "https://two.example/v2/items?x=1"))
        #expect(second.url == "https://two.example/v2/items?x=1" && second.principal.principal == "new")
        await #expect(throws: SigilError.self) {
            try await engine.decorate(OutboundRequest(url: "https://one.example/v1/items"))
        }
        source.replace(Self.catalog(url: "ftp://bad", principal: "new"))
        let error = await #expect(throws: SigilError.self) {
            try await engine.decorate(OutboundRequest(url: "callout:Api/items"))
        }
        #expect(error?.reason.contains("named credential Api has an invalid URL") == true)
    }

    @Test(
        "a user's principal is chosen again for each snapshot: authorizing or losing a per-user principal takes effect at once"
    )
    func perUserChoice() async throws {
        let mine = PrincipalRef(externalCredential: "Api", principal: "mine")
        let catalog = Catalog(
            externalCredentials: [
                ExternalCredential(
                    name: "Api", authProtocol: .basic,
                    principals: [
                        Principal(name: "shared", type: .named, sequence: 1, parameters: ["username": "shared"]),
                        Principal(name: "mine", type: .perUser, sequence: 2, parameters: ["username": "alice"]),
                    ])
            ],
            namedCredentials: [NamedCredential(name: "Api", url: "https://api.example/v1", externalCredential: "Api")],
            users: [User(name: "alice")],
            grants: [
                Grant(
                    principal: PrincipalRef(externalCredential: "Api", principal: "shared"), subjects: [.user("alice")]),
                Grant(principal: mine, subjects: [.user("alice")]),
            ]
        )
        let source = ReplaceableSource(
            catalog,
            secrets: [
                principalSecret("Api", "shared", "password"): "p1",
                SecretTarget(owner: .authorization(mine, user: "alice"), field: "password"): "p2",
            ])
        source.replace(catalog, authorized: [:])
        let engine = SigningEngine(source: source)
        #expect(
            try await engine.decorate(OutboundRequest(url: "callout:Api/x"), as: "alice").principal.principal
                == "shared")
        #expect(
            try await engine.decorate(OutboundRequest(url: "callout:Api/x"), as: "alice").principal.principal
                == "shared")
        source.replace(catalog, authorized: [mine: ["alice"]])
        #expect(
            try await engine.decorate(OutboundRequest(url: "callout:Api/x"), as: "alice").principal.principal == "mine")
        source.replace(catalog, authorized: [:])
        #expect(
            try await engine.decorate(OutboundRequest(url: "callout:Api/x"), as: "alice").principal.principal
                == "shared")
        await #expect(throws: SigilError.self) {
            try await engine.decorate(OutboundRequest(url: "callout:Api/x"), as: "mallory")
        }
    }
}
