public import SigilCore
public import SigilModel

/// A configuration file (YAML or JSON) as `sigil apply` reads it: the items it describes, and
/// references to the secrets it assigns. Reading the file checks its shape (known keys, types,
/// reference syntax) and reports the file, line, item and field of each problem; the model's
/// rules are checked on the merged catalog by ``problems(in:)``.
///
/// The format is documented in README.md ("Configuration file").
public struct ConfigFile: Sendable {
    /// The file's name, as messages show it.
    public let fileName: String
    /// The items of the file. Client certificates given as references are filled in by
    /// ``resolve(standardInput:)``.
    public private(set) var catalog: Catalog
    /// The secrets the file assigns, by reference.
    public private(set) var secretReferences: [SecretTarget: SecretReference] = [:]
    /// Client certificates given as `file:` or `env:` references, by named credential.
    public private(set) var certificateReferences: [String: SecretReference] = [:]
    /// CA bundles given as paths or references, by named credential.
    public private(set) var caBundleReferences: [String: SecretReference] = [:]
    /// PKCS#12 client identities (bundle and password), by named credential.
    private(set) var pkcs12References: [String: PKCS12Reference] = [:]
    /// Where each item starts, for messages.
    private var lines: [ItemRef: Int] = [:]
    private let baseDirectory: String

    /// Parses `text`; `format` defaults to the one `fileName`'s extension implies.
    public init(text: String, fileName: String, baseDirectory: String = "", json: Bool? = nil) throws(SigilError) {
        self.fileName = fileName
        self.baseDirectory = baseDirectory
        let format: ConfigNode.Format = json.map { $0 ? .json : .yaml } ?? .init(fileName: fileName)
        let root = try ConfigNode.parse(text, format: format, fileName: fileName)
        var reader = DocumentReader(fileName: fileName)
        self.catalog = try reader.read(root)
        self.secretReferences = reader.secretReferences
        self.certificateReferences = reader.certificateReferences
        self.caBundleReferences = reader.caBundleReferences
        self.pkcs12References = reader.pkcs12References
        self.lines = reader.lines
    }

    /// Whether any secret or certificate reference reads standard input.
    public var readsStandardInput: Bool {
        secretReferences.values.contains(.standardInput) || certificateReferences.values.contains(.standardInput)
            || caBundleReferences.values.contains(.standardInput)
            || pkcs12References.values.contains { $0.bundle == .standardInput || $0.password == .standardInput }
    }

    /// Reads every reference and returns what `apply` writes. Errors name the item and field.
    public func resolve(standardInput: () throws(SigilError) -> SecretBytes) throws(SigilError) -> ApplyRequest {
        var catalog = catalog
        var namedCredentials = catalog.namedCredentials
        for (name, reference) in certificateReferences.sorted(by: { $0.key < $1.key }) {
            guard let index = namedCredentials.firstIndex(where: { $0.name == name }) else { continue }
            let pem = try attributed(.namedCredential(name), "clientIdentity.certificate") { () throws(SigilError) in
                try reference.resolve(baseDirectory: baseDirectory, standardInput: standardInput)
            }
            namedCredentials[index].clientCertificate = pem.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
        var secrets: [SecretTarget: SecretBytes] = [:]
        for (name, reference) in pkcs12References.sorted(by: { $0.key < $1.key }) {
            guard let index = namedCredentials.firstIndex(where: { $0.name == name }) else { continue }
            let bundle = try attributed(.namedCredential(name), "clientIdentity.pkcs12") { () throws(SigilError) in
                try reference.bundle.resolve(baseDirectory: baseDirectory, standardInput: standardInput, binary: true)
            }
            let password = try reference.password.map { password throws(SigilError) in
                try attributed(.namedCredential(name), "clientIdentity.password") { () throws(SigilError) in
                    try password.resolve(baseDirectory: baseDirectory, standardInput: standardInput)
                }
            }
            let identity = try attributed(.namedCredential(name), "clientIdentity.pkcs12") { () throws(SigilError) in
                try PKCS12Identity.unpack(bundle, password: password)
            }
            namedCredentials[index].clientCertificate = identity.chainPEM
            secrets[SecretTarget(owner: .namedCredential(name), field: NamedCredential.clientKeyField)] = identity.key
        }
        for (name, reference) in caBundleReferences.sorted(by: { $0.key < $1.key }) {
            guard let index = namedCredentials.firstIndex(where: { $0.name == name }) else { continue }
            let pem = try attributed(.namedCredential(name), "trust.caBundle") { () throws(SigilError) in
                try reference.resolve(baseDirectory: baseDirectory, standardInput: standardInput)
            }
            namedCredentials[index].trust?.caBundle = pem.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
        catalog = Catalog(
            externalCredentials: catalog.externalCredentials, namedCredentials: namedCredentials, users: catalog.users,
            groups: catalog.groups, grants: catalog.grants, roles: catalog.roles, service: catalog.service
        )
        for (target, reference) in secretReferences.sorted(by: { $0.key.description < $1.key.description }) {
            secrets[target] = try attributed(item(owning: target), "secrets.\(target.field)") { () throws(SigilError) in
                try reference.resolve(baseDirectory: baseDirectory, standardInput: standardInput)
            }
        }
        return ApplyRequest(catalog: catalog, secrets: secrets)
    }

    /// The model's rules, checked on `stored` with this file's items laid over it (`resolved`, the
    /// catalog of ``resolve(standardInput:)``, once references are read), as one error whose lines
    /// name this file's lines where the item comes from it; `nil` when all hold.
    public func problems(
        in stored: Catalog, resolved: Catalog? = nil, checking more: (Catalog) -> [ValidationIssue] = { _ in [] }
    ) -> SigilError? {
        let merged = stored.merging(resolved ?? catalog)
        var issues = merged.issues()
        // Further rules (each scheme's settings) only on a catalog that holds together.
        if issues.isEmpty { issues = more(merged) }
        guard !issues.isEmpty else { return nil }
        let lines = issues.map { issue in
            let itemLine = self.lines[issue.item] ?? self.lines[parent(of: issue.item)]
            return itemLine.map { "\(fileName):\($0): \(issue)" } ?? "\(fileName): \(issue)"
        }
        let reason = lines.count == 1 ? lines[0] : "\(lines.count) problems:\n  " + lines.joined(separator: "\n  ")
        return SigilError(.invalidConfiguration, reason)
    }

    private func item(owning target: SecretTarget) -> ItemRef {
        switch target.owner {
        case .principal(let reference): .principal(reference)
        case .authorization(let reference, let user): .authorization(reference, user: user)
        case .namedCredential(let name): .namedCredential(name)
        }
    }

    private func parent(of item: ItemRef) -> ItemRef {
        if case .principal(let reference) = item { return .externalCredential(reference.externalCredential) }
        return item
    }

    private func attributed<T>(_ item: ItemRef, _ field: String, _ body: () throws(SigilError) -> T) throws(SigilError)
        -> T
    {
        do {
            return try body()
        } catch {
            let location = lines[item].map { "\(fileName):\($0)" } ?? fileName
            throw SigilError(error.code, "\(location): \(item), \(field): \(error.reason)")
        }
    }
}

extension ConfigFile {
    /// Every field the file gives by reference (`env:`, `file:`, `stdin`), as `item, field`: for a
    /// front door that must not read its host's environment or files on a caller's behalf (the
    /// service), which refuses them.
    public var referencedFields: [String] {
        var fields = secretReferences.keys.map { "\(item(owning: $0)), secrets.\($0.field)" }
        fields += certificateReferences.keys.map { "\(ItemRef.namedCredential($0)), clientIdentity.certificate" }
        fields += caBundleReferences.keys.map { "\(ItemRef.namedCredential($0)), trust.caBundle" }
        fields += pkcs12References.keys.map { "\(ItemRef.namedCredential($0)), clientIdentity.pkcs12" }
        return fields.sorted()
    }
}
