import SigilCore
import SigilModel

/// Maps a ``ConfigNode`` tree to model types, checking keys and types as it goes. Each error
/// names the file, the line, the path (`externalCredentials[0] (Billing).principals[1].sequence`)
/// and the problem, and never quotes a secret value.
struct DocumentReader {
    let fileName: String
    var secretReferences: [SecretTarget: SecretReference] = [:]
    var certificateReferences: [String: SecretReference] = [:]
    var caBundleReferences: [String: SecretReference] = [:]
    var pkcs12References: [String: PKCS12Reference] = [:]
    var lines: [ItemRef: Int] = [:]
    private var standardInputUser: String?

    init(fileName: String) {
        self.fileName = fileName
    }

    // MARK: Document

    mutating func read(_ root: ConfigNode) throws(SigilError) -> Catalog {
        let top = try mapping(
            root, "document",
            keys: [
                "externalCredentials", "namedCredentials", "users", "groups", "grants", "authorizations", "roles",
                "service",
            ])
        var externalCredentials: [ExternalCredential] = []
        for (index, node) in try list(top["externalCredentials"], "externalCredentials").enumerated() {
            externalCredentials.append(try externalCredential(node, "externalCredentials[\(index)]"))
        }
        var namedCredentials: [NamedCredential] = []
        for (index, node) in try list(top["namedCredentials"], "namedCredentials").enumerated() {
            namedCredentials.append(try namedCredential(node, "namedCredentials[\(index)]"))
        }
        var users: [User] = []
        for (index, node) in try list(top["users"], "users").enumerated() {
            let path = "users[\(index)]"
            let fields = try mapping(node, path, keys: ["name", "groups"])
            let name = try string(fields["name"], path + ".name", in: node)
            lines[.user(name)] = node.line
            users.append(User(name: name, groups: try strings(fields["groups"], "\(path) (\(name)).groups")))
        }
        let groups = try strings(top["groups"], "groups")
        var grants: [Grant] = []
        for (index, node) in try list(top["grants"], "grants").enumerated() {
            let path = "grants[\(index)]"
            let fields = try mapping(node, path, keys: ["principal", "to"])
            let principal = try principalRef(fields["principal"], path + ".principal", in: node)
            var subjects: [GrantSubject] = []
            for (position, text) in try strings(fields["to"], path + ".to").enumerated() {
                guard let subject = GrantSubject(parsing: text) else {
                    throw error(
                        fields["to"], "\(path).to[\(position)]",
                        "\"\(text.sanitizedForMessage)\" is not user:NAME or group:NAME")
                }
                subjects.append(subject)
            }
            lines[.grant(principal)] = node.line
            grants.append(Grant(principal: principal, subjects: subjects))
        }
        for (index, node) in try list(top["authorizations"], "authorizations").enumerated() {
            let path = "authorizations[\(index)]"
            let fields = try mapping(node, path, keys: ["principal", "user", "secrets"])
            let principal = try principalRef(fields["principal"], path + ".principal", in: node)
            let user = try string(fields["user"], path + ".user", in: node)
            lines[.authorization(principal, user: user)] = node.line
            try secrets(fields["secrets"], "\(path).secrets", owner: .authorization(principal, user: user))
        }
        return Catalog(
            externalCredentials: externalCredentials, namedCredentials: namedCredentials, users: users, groups: groups,
            grants: grants, roles: try top["roles"].map { node throws(SigilError) in try roles(node) },
            service: try top["service"].map { node throws(SigilError) in try service(node) })
    }

    // MARK: The service

    /// `roles: {admin: [user:ops], app: [user:billing, {subject: user:calendar, actAs: true}]}`.
    private mutating func roles(_ node: ConfigNode) throws(SigilError) -> [RoleGrant] {
        lines[.roles] = node.line
        let fields = try mapping(node, "roles", keys: Set(Role.allCases.map(\.rawValue)))
        var grants: [RoleGrant] = []
        for role in Role.allCases {
            for (index, entry) in try list(fields[role.rawValue], "roles.\(role.rawValue)").enumerated() {
                let path = "roles.\(role.rawValue)[\(index)]"
                var subjectNode = entry
                var actAs = false
                if case .mapping = entry {
                    let entryFields = try mapping(entry, path, keys: ["subject", "actAs"])
                    subjectNode = entryFields["subject"] ?? .scalar("", plain: true, line: entry.line)
                    if let node = entryFields["actAs"] { actAs = try bool(node, path + ".actAs") }
                }
                let text = try string(subjectNode, path, in: entry)
                guard let subject = GrantSubject(parsing: text) else {
                    throw error(subjectNode, path, "\"\(text.sanitizedForMessage)\" is not user:NAME or group:NAME")
                }
                grants.append(RoleGrant(role: role, subject: subject, actAs: actAs))
            }
        }
        return grants
    }

    /// `service: {basic: {enabled: true}, apiKeys: {enabled: true}, failures: {...}}`; what is left
    /// out keeps its default.
    private mutating func service(_ node: ConfigNode) throws(SigilError) -> ServiceSettings {
        lines[.service] = node.line
        let fields = try mapping(
            node, "service", keys: ["basic", "apiKeys", "failures", "platformSession", "directory", "saml"])
        var settings = ServiceSettings()
        if let node = fields["basic"] { settings.basic = try toggle(node, "service.basic") }
        if let node = fields["apiKeys"] { settings.apiKeys = try toggle(node, "service.apiKeys") }
        if let node = fields["failures"] {
            let failures = try mapping(
                node, "service.failures", keys: ["firstMilliseconds", "maximumMilliseconds", "forgetSeconds"])
            if let value = failures["firstMilliseconds"] {
                settings.failures.firstMilliseconds = try integer(value, "service.failures.firstMilliseconds")
            }
            if let value = failures["maximumMilliseconds"] {
                settings.failures.maximumMilliseconds = try integer(value, "service.failures.maximumMilliseconds")
            }
            if let value = failures["forgetSeconds"] {
                settings.failures.forgetSeconds = try integer(value, "service.failures.forgetSeconds")
            }
        }
        if let node = fields["platformSession"] {
            let path = "service.platformSession"
            let entries = try mapping(
                node, path,
                keys: ["enabled", "sessionHeader", "identityHeader", "allowedHosts", "userField", "cacheSeconds"])
            let enabled =
                try entries["enabled"].map { node throws(SigilError) in try bool(node, path + ".enabled") } ?? true
            var session = ServiceSettings.PlatformSession()
            if let node = entries["sessionHeader"] {
                session.sessionHeader = try string(node, path + ".sessionHeader", in: node)
            }
            if let node = entries["identityHeader"] {
                session.identityHeader = try string(node, path + ".identityHeader", in: node)
            }
            session.allowedHosts = try strings(entries["allowedHosts"], path + ".allowedHosts")
            if let node = entries["userField"] { session.userField = try string(node, path + ".userField", in: node) }
            if let node = entries["cacheSeconds"] { session.cacheSeconds = try integer(node, path + ".cacheSeconds") }
            settings.platformSession = enabled ? session : nil
        }
        if let node = fields["directory"] {
            let path = "service.directory"
            let entries = try mapping(
                node, path,
                keys: [
                    "enabled", "url", "startTLS", "caBundle", "userDN", "groupBase", "groupFilter", "groups",
                    "groupAttribute", "timeoutSeconds",
                ])
            let enabled =
                try entries["enabled"].map { node throws(SigilError) in try bool(node, path + ".enabled") } ?? true
            var directory = ServiceSettings.Directory()
            directory.url = try string(entries["url"], path + ".url", in: node)
            directory.userDN = try string(entries["userDN"], path + ".userDN", in: node)
            if let value = entries["startTLS"] { directory.startTLS = try bool(value, path + ".startTLS") }
            if let value = entries["caBundle"] { directory.caBundle = try string(value, path + ".caBundle", in: node) }
            if let value = entries["groupBase"] {
                directory.groupBase = try string(value, path + ".groupBase", in: node)
            }
            if let value = entries["groupFilter"] {
                directory.groupFilter = try string(value, path + ".groupFilter", in: node)
            }
            if let value = entries["groupAttribute"] {
                directory.groupAttribute = try string(value, path + ".groupAttribute", in: node)
            }
            if let value = entries["timeoutSeconds"] {
                directory.timeoutSeconds = try integer(value, path + ".timeoutSeconds")
            }
            directory.groups = try parameters(entries["groups"], path + ".groups")
            settings.directory = enabled ? directory : nil
        }
        if let node = fields["saml"] {
            let path = "service.saml"
            let entries = try mapping(
                node, path,
                keys: [
                    "enabled", "idpEntityID", "idpSSOURL", "idpCertificate", "spEntityID", "acsURL", "userAttribute",
                    "sessionMinutes", "clockSkewSeconds",
                ])
            let enabled =
                try entries["enabled"].map { node throws(SigilError) in try bool(node, path + ".enabled") } ?? true
            var saml = ServiceSettings.SAML()
            saml.idpEntityID = try string(entries["idpEntityID"], path + ".idpEntityID", in: node)
            saml.idpSSOURL = try string(entries["idpSSOURL"], path + ".idpSSOURL", in: node)
            saml.idpCertificate = try string(entries["idpCertificate"], path + ".idpCertificate", in: node)
            saml.spEntityID = try string(entries["spEntityID"], path + ".spEntityID", in: node)
            saml.acsURL = try string(entries["acsURL"], path + ".acsURL", in: node)
            if let value = entries["userAttribute"] {
                saml.userAttribute = try string(value, path + ".userAttribute", in: node)
            }
            if let value = entries["sessionMinutes"] {
                saml.sessionMinutes = try integer(value, path + ".sessionMinutes")
            }
            if let value = entries["clockSkewSeconds"] {
                saml.clockSkewSeconds = try integer(value, path + ".clockSkewSeconds")
            }
            settings.saml = enabled ? saml : nil
        }
        return settings
    }

    private func toggle(_ node: ConfigNode, _ path: String) throws(SigilError) -> ServiceSettings.Toggle {
        let fields = try mapping(node, path, keys: ["enabled"])
        return ServiceSettings.Toggle(
            enabled: try fields["enabled"].map { node throws(SigilError) in
                try bool(node, path + ".enabled")
            } ?? true)
    }

    private mutating func externalCredential(_ node: ConfigNode, _ path: String) throws(SigilError)
        -> ExternalCredential
    {
        let fields = try mapping(
            node, path, keys: ["name", "protocol", "parameters", "customHeaders", "principals", "rotation"])
        let name = try string(fields["name"], path + ".name", in: node)
        let path = "\(path) (\(name))"
        lines[.externalCredential(name)] = node.line
        let protocolName = try string(fields["protocol"], path + ".protocol", in: node)
        guard let authProtocol = AuthProtocol(rawValue: protocolName) else {
            throw error(
                fields["protocol"], path + ".protocol",
                "\"\(protocolName.sanitizedForMessage)\" is not a protocol; use one of \(AuthProtocol.allNames)")
        }
        var principals: [Principal] = []
        var lastSequence = 0
        for (index, principalNode) in try list(fields["principals"], path + ".principals").enumerated() {
            let principalPath = "\(path).principals[\(index)]"
            let principalFields = try mapping(
                principalNode, principalPath, keys: ["name", "type", "sequence", "parameters", "secrets", "rotation"])
            let principalName = try string(principalFields["name"], principalPath + ".name", in: principalNode)
            let namedPath = "\(principalPath) (\(principalName))"
            let reference = PrincipalRef(externalCredential: name, principal: principalName)
            lines[.principal(reference)] = principalNode.line
            var type = PrincipalType.named
            if let typeNode = principalFields["type"] {
                let text = try string(typeNode, namedPath + ".type", in: principalNode)
                guard let parsed = PrincipalType(rawValue: text) else {
                    throw error(
                        typeNode, namedPath + ".type", "\"\(text.sanitizedForMessage)\" is not named or per-user")
                }
                type = parsed
            }
            // An unnumbered principal follows the one before it.
            let sequence =
                try principalFields["sequence"].map { node throws(SigilError) in
                    try integer(node, namedPath + ".sequence")
                } ?? lastSequence + 1
            lastSequence = sequence
            principals.append(
                Principal(
                    name: principalName, type: type, sequence: sequence,
                    parameters: try parameters(principalFields["parameters"], namedPath + ".parameters"),
                    rotation: try principalFields["rotation"].map { node throws(SigilError) in
                        try rotation(node, namedPath + ".rotation")
                    }
                ))
            try secrets(principalFields["secrets"], namedPath + ".secrets", owner: .principal(reference))
        }
        return ExternalCredential(
            name: name, authProtocol: authProtocol,
            parameters: try parameters(fields["parameters"], path + ".parameters"),
            customHeaders: try headers(fields["customHeaders"], path + ".customHeaders"), principals: principals,
            rotation: try fields["rotation"].map { node throws(SigilError) in try rotation(node, path + ".rotation") }
        )
    }

    /// `rotation: { rotator, every, grace, field, length, alphabet, testRequest: { url, method, expect },
    /// aws: { userName, iamEndpoint, stsEndpoint, stsRegion }, clientSecrets: { add, revoke },
    /// command: { path, arguments, timeout } }`.
    private func rotation(_ node: ConfigNode, _ path: String) throws(SigilError) -> RotationPolicy {
        let fields = try mapping(
            node, path,
            keys: [
                "rotator", "every", "grace", "field", "length", "alphabet", "testRequest", "aws", "clientSecrets",
                "command",
            ])
        let name = try string(fields["rotator"], path + ".rotator", in: node)
        guard let rotator = RotationPolicy.Rotator(rawValue: name) else {
            throw error(
                fields["rotator"], path + ".rotator",
                "\"\(name.sanitizedForMessage)\" is not a rotator; use \(RotationPolicy.Rotator.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        /// The optional strings of the mapping at `key`.
        func stringMapping(_ key: String, _ names: Set<String>) throws(SigilError) -> [String: String]? {
            guard let child = fields[key] else { return nil }
            var values: [String: String] = [:]
            for (name, value) in try mapping(child, path + "." + key, keys: names) {
                values[name] = try string(value, "\(path).\(key).\(name)", in: child)
            }
            return values
        }
        func duration(_ key: String, default value: Int?) throws(SigilError) -> Int {
            guard let node = fields[key] else {
                guard let value else { throw error(node, path + "." + key, "is missing (a duration such as 90d)") }
                return value
            }
            let text = try string(node, path + "." + key, in: node)
            guard let seconds = RotationPolicy.seconds(text) else {
                throw error(
                    node, path + "." + key, "\"\(text.sanitizedForMessage)\" is not a duration such as 90d, 12h or 30m")
            }
            return seconds
        }
        var test: RotationPolicy.TestRequest?
        if let testNode = fields["testRequest"] {
            let testPath = path + ".testRequest"
            let testFields = try mapping(testNode, testPath, keys: ["url", "method", "expect"])
            var expect: [Int] = []
            for (index, item) in try list(testFields["expect"], testPath + ".expect").enumerated() {
                expect.append(try integer(item, "\(testPath).expect[\(index)]"))
            }
            test = RotationPolicy.TestRequest(
                url: try string(testFields["url"], testPath + ".url", in: testNode),
                method: try testFields["method"].map { node throws(SigilError) in
                    try string(node, testPath + ".method", in: testNode).uppercased()
                } ?? "GET",
                expect: expect.isEmpty ? [200] : expect)
        }
        var command: RotationPolicy.CommandSettings?
        if let commandNode = fields["command"] {
            let commandPath = path + ".command"
            let commandFields = try mapping(commandNode, commandPath, keys: ["path", "arguments", "timeout"])
            var timeout = RotationPolicy.CommandSettings.defaultTimeout
            if let timeoutNode = commandFields["timeout"] {
                let text = try string(timeoutNode, commandPath + ".timeout", in: commandNode)
                guard let seconds = RotationPolicy.seconds(text) else {
                    throw error(
                        timeoutNode, commandPath + ".timeout",
                        "\"\(text.sanitizedForMessage)\" is not a duration such as 30s or 5m")
                }
                timeout = seconds
            }
            command = RotationPolicy.CommandSettings(
                path: try string(commandFields["path"], commandPath + ".path", in: commandNode),
                arguments: try strings(commandFields["arguments"], commandPath + ".arguments"), timeout: timeout)
        }
        let aws = try stringMapping("aws", ["userName", "iamEndpoint", "stsEndpoint", "stsRegion"]).map {
            RotationPolicy.AWSSettings(
                userName: $0["userName"], iamEndpoint: $0["iamEndpoint"], stsEndpoint: $0["stsEndpoint"],
                stsRegion: $0["stsRegion"])
        }
        let clientSecrets = try stringMapping("clientSecrets", ["add", "revoke"]).map {
            RotationPolicy.ClientSecretAdmin(add: $0["add"], revoke: $0["revoke"])
        }
        return RotationPolicy(
            rotator: rotator, every: try duration("every", default: nil),
            grace: try duration("grace", default: RotationPolicy.defaultGrace),
            field: try fields["field"].map { child throws(SigilError) in try string(child, path + ".field", in: node) },
            length: try fields["length"].map { child throws(SigilError) in try integer(child, path + ".length") },
            alphabet: try fields["alphabet"].map { child throws(SigilError) in
                try string(child, path + ".alphabet", in: node)
            },
            testRequest: test, aws: aws, clientSecrets: clientSecrets, command: command)
    }

    private mutating func namedCredential(_ node: ConfigNode, _ path: String) throws(SigilError) -> NamedCredential {
        let fields = try mapping(
            node, path,
            keys: [
                "name", "url", "externalCredential", "generateAuthorizationHeader", "allowMergeFieldsInHeader",
                "allowMergeFieldsInBody", "customHeaders", "clientIdentity", "trust",
            ])
        let name = try string(fields["name"], path + ".name", in: node)
        let path = "\(path) (\(name))"
        lines[.namedCredential(name)] = node.line
        var certificate: String?
        if let identityNode = fields["clientIdentity"] {
            let identity = try mapping(
                identityNode, path + ".clientIdentity", keys: ["certificate", "privateKey", "pkcs12", "password"])
            if let bundleNode = identity["pkcs12"] {
                certificate = try pkcs12(bundleNode, identity, path + ".clientIdentity", name: name)
            } else if let passwordNode = identity["password"] {
                throw error(
                    passwordNode, path + ".clientIdentity.password",
                    "is the password of a PKCS#12 bundle, and there is no pkcs12")
            } else {
                let text = try string(identity["certificate"], path + ".clientIdentity.certificate", in: identityNode)
                if text.contains("-----BEGIN") {
                    certificate = text
                } else if let reference = SecretReference(parsing: text) {
                    certificateReferences[name] = try claimingStandardInput(
                        reference, identity["certificate"], path + ".clientIdentity.certificate")
                    certificate = ""
                } else {
                    throw error(
                        identity["certificate"], path + ".clientIdentity.certificate",
                        "is neither a PEM certificate nor a reference (file:PATH, env:NAME)")
                }
            }
            // Omitted, the stored key is kept (an export carries no secrets); apply checks one exists.
            if let keyNode = identity["privateKey"] {
                try secret(
                    keyNode, path + ".clientIdentity.privateKey",
                    target: SecretTarget(owner: .namedCredential(name), field: NamedCredential.clientKeyField))
            }
        }
        var trust: NamedCredential.Trust?
        if let trustNode = fields["trust"] {
            let entries = try mapping(trustNode, path + ".trust", keys: ["caBundle", "pins"])
            trust = NamedCredential.Trust()
            if let bundleNode = entries["caBundle"] {
                let text = try string(bundleNode, path + ".trust.caBundle", in: trustNode)
                if text.contains("-----BEGIN") {
                    trust?.caBundle = text
                } else {
                    // A path (relative to the file), or a file: or env: reference; read at apply.
                    let reference = SecretReference(parsing: text) ?? .file(text)
                    caBundleReferences[name] = try claimingStandardInput(
                        reference, bundleNode, path + ".trust.caBundle")
                    trust?.caBundle = ""
                }
            }
            if let pinsNode = entries["pins"] {
                trust?.pins = try strings(pinsNode, path + ".trust.pins")
            }
        }
        return NamedCredential(
            name: name,
            url: try string(fields["url"], path + ".url", in: node),
            externalCredential: try string(fields["externalCredential"], path + ".externalCredential", in: node),
            generateAuthorizationHeader: try fields["generateAuthorizationHeader"].map { node throws(SigilError) in
                try bool(node, path + ".generateAuthorizationHeader")
            } ?? true,
            allowMergeFieldsInHeader: try fields["allowMergeFieldsInHeader"].map { node throws(SigilError) in
                try bool(node, path + ".allowMergeFieldsInHeader")
            } ?? false,
            allowMergeFieldsInBody: try fields["allowMergeFieldsInBody"].map { node throws(SigilError) in
                try bool(node, path + ".allowMergeFieldsInBody")
            } ?? false,
            customHeaders: try headers(fields["customHeaders"], path + ".customHeaders"),
            clientCertificate: certificate,
            trust: trust
        )
    }

    /// `clientIdentity: { pkcs12: file:PATH | stdin, password: REFERENCE }`: the bundle and its
    /// password are secrets, read at apply and unpacked there (``ConfigFile/resolve(standardInput:)``).
    /// The chain and key fields do not go with it.
    private mutating func pkcs12(
        _ bundleNode: ConfigNode, _ identity: [String: ConfigNode], _ path: String, name: String
    ) throws(SigilError) -> String {
        for field in ["certificate", "privateKey"] {
            if let node = identity[field] {
                throw error(
                    node, "\(path).\(field)",
                    "cannot be given with pkcs12 (the bundle holds the certificate chain and key)")
            }
        }
        guard case .scalar(let text, _, _) = bundleNode, !bundleNode.isNull else {
            throw error(
                bundleNode, path + ".pkcs12", "must be a reference (file:PATH or stdin), not \(bundleNode.kindName)")
        }
        guard let bundle = SecretReference(parsing: text) else {
            throw error(
                bundleNode, path + ".pkcs12",
                "is not a reference; a PKCS#12 bundle is given as file:PATH or stdin (the value is not shown)")
        }
        if case .environment = bundle {
            throw error(
                bundleNode, path + ".pkcs12",
                "a PKCS#12 bundle is binary and cannot come from an environment variable; use file:PATH or stdin")
        }
        var password: SecretReference?
        if let passwordNode = identity["password"] {
            guard case .scalar(let text, _, _) = passwordNode, !passwordNode.isNull,
                let reference = SecretReference(parsing: text)
            else {
                throw error(
                    passwordNode, path + ".password",
                    "is not a reference; secret values must be given as env:NAME, file:PATH or stdin, never literally (the value is not shown)"
                )
            }
            password = try claimingStandardInput(reference, passwordNode, path + ".password")
        }
        pkcs12References[name] = PKCS12Reference(
            bundle: try claimingStandardInput(bundle, bundleNode, path + ".pkcs12"), password: password)
        // Filled in with the bundle's chain at apply.
        return ""
    }

    // MARK: Secrets

    private mutating func secrets(_ node: ConfigNode?, _ path: String, owner: SecretOwner) throws(SigilError) {
        guard let node, !node.isNull else { return }
        guard case .mapping(let pairs, _) = node else {
            throw error(node, path, "must be a mapping of field names to references, not \(node.kindName)")
        }
        for (field, value) in pairs {
            if let problem = Names.problem(withFieldName: field) {
                throw error(value, "\(path).\(field.sanitizedForMessage)", "the field name \(problem)")
            }
            try secret(value, "\(path).\(field)", target: SecretTarget(owner: owner, field: field))
        }
    }

    private mutating func secret(_ node: ConfigNode, _ path: String, target: SecretTarget) throws(SigilError) {
        guard case .scalar(let text, _, _) = node, !node.isNull else {
            throw error(node, path, "must be a reference (env:NAME, file:PATH or stdin), not \(node.kindName)")
        }
        guard let reference = SecretReference(parsing: text) else {
            // Deliberately not quoted: a literal here is most likely the secret itself.
            throw error(
                node, path,
                "is not a reference; secret values must be given as env:NAME, file:PATH or stdin, never literally (the value is not shown)"
            )
        }
        secretReferences[target] = try claimingStandardInput(reference, node, path)
    }

    /// Only one value can come from standard input.
    private mutating func claimingStandardInput(_ reference: SecretReference, _ node: ConfigNode?, _ path: String)
        throws(SigilError) -> SecretReference
    {
        if reference == .standardInput {
            if let other = standardInputUser {
                throw error(node, path, "reads stdin, which \(other) already reads; only one value can come from stdin")
            }
            standardInputUser = path
        }
        return reference
    }

    // MARK: Values

    private func mapping(_ node: ConfigNode, _ path: String, keys: Set<String>) throws(SigilError) -> [String:
        ConfigNode]
    {
        guard case .mapping(let pairs, _) = node else {
            throw error(node, path, "must be a mapping, not \(node.kindName)")
        }
        var result: [String: ConfigNode] = [:]
        for (key, value) in pairs {
            guard keys.contains(key) else {
                // Quoted only when it looks like a key: anything else may be a value pasted in its place.
                let shown = Names.quotedIfName(key) ?? "(not shown: it is not a name)"
                throw error(
                    value, path, "unknown key \(shown); expected one of \(keys.sorted().joined(separator: ", "))")
            }
            if !value.isNull { result[key] = value }
        }
        return result
    }

    private func list(_ node: ConfigNode?, _ path: String) throws(SigilError) -> [ConfigNode] {
        guard let node else { return [] }
        guard case .sequence(let items, _) = node else {
            throw error(node, path, "must be a list, not \(node.kindName)")
        }
        return items
    }

    private func string(_ node: ConfigNode?, _ path: String, in parent: ConfigNode) throws(SigilError) -> String {
        guard let node else { throw error(parent, path, "is missing") }
        guard case .scalar(let text, _, _) = node else {
            throw error(node, path, "must be a single value, not \(node.kindName)")
        }
        return text
    }

    private func strings(_ node: ConfigNode?, _ path: String) throws(SigilError) -> [String] {
        var result: [String] = []
        for (index, item) in try list(node, path).enumerated() {
            result.append(try string(item, "\(path)[\(index)]", in: item))
        }
        return result
    }

    private func bool(_ node: ConfigNode, _ path: String) throws(SigilError) -> Bool {
        guard case .scalar(let text, true, _) = node, text == "true" || text == "false" else {
            throw error(node, path, "must be true or false")
        }
        return text == "true"
    }

    private func integer(_ node: ConfigNode, _ path: String) throws(SigilError) -> Int {
        guard case .scalar(let text, true, _) = node, let value = Int(text) else {
            throw error(node, path, "must be a whole number")
        }
        return value
    }

    private func parameters(_ node: ConfigNode?, _ path: String) throws(SigilError) -> [String: String] {
        guard let node else { return [:] }
        guard case .mapping(let pairs, _) = node else {
            throw error(node, path, "must be a mapping of names to values, not \(node.kindName)")
        }
        var result: [String: String] = [:]
        for (key, value) in pairs {
            guard case .scalar(let text, _, _) = value, !value.isNull else {
                throw error(
                    value, "\(path).\(key.sanitizedForMessage)", "must be a single value, not \(value.kindName)")
            }
            result[key] = text
        }
        return result
    }

    private func headers(_ node: ConfigNode?, _ path: String) throws(SigilError) -> [CustomHeader] {
        var result: [CustomHeader] = []
        for (index, item) in try list(node, path).enumerated() {
            let fields = try mapping(item, "\(path)[\(index)]", keys: ["name", "value"])
            result.append(
                CustomHeader(
                    name: try string(fields["name"], "\(path)[\(index)].name", in: item),
                    value: try string(fields["value"], "\(path)[\(index)].value", in: item)
                ))
        }
        return result
    }

    private func principalRef(_ node: ConfigNode?, _ path: String, in parent: ConfigNode) throws(SigilError)
        -> PrincipalRef
    {
        let text = try string(node, path, in: parent)
        guard let reference = PrincipalRef(parsing: text) else {
            throw error(node, path, "\"\(text.sanitizedForMessage)\" is not ExternalCredential/principal")
        }
        return reference
    }

    private func error(_ node: ConfigNode?, _ path: String, _ problem: String) -> SigilError {
        let location = node?.line.map { "\(fileName):\($0)" } ?? fileName
        return SigilError(.invalidConfiguration, "\(location): \(path): \(problem)")
    }
}
