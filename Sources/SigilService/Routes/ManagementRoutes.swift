import Foundation
import Hummingbird
import SigilConfig
import SigilCore
import SigilModel
import SigilOperations
import SigilStore

/// The vault's management over HTTP: the configuration (apply and export), items (list, show,
/// delete), secrets (write-only: versions and stages are shown, never values), credentials obtained
/// from providers, the audit log and the keys. Each route calls the same operation as its CLI command.
enum ManagementRoutes {
    static func add(to routes: inout RouteTable, state: ServiceState) {
        addConfiguration(to: &routes, state: state)
        addItems(to: &routes, state: state)
        addSecrets(to: &routes, state: state)
        routes.add(.get, "/v1/auth/status", .member) { _, context in
            let caller = context.caller!
            // A member sees the named principals and their own authorizations; operators see all.
            return try JSONResponse.make(
                try IssuedCredentialState.all(
                    in: state.vault, at: state.clock(), user: caller.has(.operator) ? nil : caller.user.name
                ).filter { caller.has(.operator) || $0.user == nil || $0.user == caller.user.name })
        }
        routes.add(.get, "/v1/audit", .operator) { request, _ in
            let query = request.uri.queryParameters
            func date(_ name: String) throws -> Date? {
                guard let text = query[Substring(name)] else { return nil }
                guard let date = try? Date(String(text), strategy: .iso8601) else {
                    throw ServiceError.invalid("\(name): expected an ISO 8601 instant")
                }
                return date
            }
            let limit = try query["limit"].map { text in
                guard let limit = Int(text), (1...10_000).contains(limit) else {
                    throw ServiceError.invalid("limit: expected 1 to 10000")
                }
                return limit
            }
            let filter = AuditFilter(
                user: query["user"].map(String.init), credential: query["credential"].map(String.init),
                since: try date("since"), until: try date("until"), action: query["action"].map(String.init))
            return try JSONResponse.make(try state.vault.auditEntries(limit: limit ?? 100, matching: filter))
        }
        routes.add(.get, "/v1/audit/verify", .operator) { _, _ in
            try JSONResponse.make(try state.vault.verifyAudit())
        }
        routes.add(.get, "/v1/keys", .admin) { _, _ in
            try JSONResponse.make(try state.vault.keyStatus())
        }
    }

    // MARK: Configuration

    private static func addConfiguration(to routes: inout RouteTable, state: ServiceState) {
        routes.add(.get, "/v1/config", .operator) { request, _ in
            let json =
                request.uri.queryParameters["format"] == "json"
                || (request.headers[.accept] ?? "").contains("application/json")
            let text = try ConfigExport.text(of: try state.vault.catalog(), json: json)
            return Response(
                status: .ok,
                headers: [.contentType: json ? "application/json" : "application/yaml", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        routes.add(.put, "/v1/config", .operator) { request, context in
            var request = request
            let buffer = try await request.collectBody(upTo: context.maxUploadSize)
            let json = (request.headers[.contentType] ?? "").contains("json")
            let dryRun = request.uri.queryParameters["dryRun"] == "true"
            let config = try ConfigFile(
                text: String(decoding: buffer.readableBytesView, as: UTF8.self),
                fileName: json ? "config.json" : "config.yaml", json: json)
            let referenced = config.referencedFields
            guard referenced.isEmpty else {
                throw SigilError(
                    .invalidConfiguration,
                    "the service does not read its host's environment or files: \(referenced.joined(separator: "; ")) "
                        + "give\(referenced.count == 1 ? "s" : "") a reference; set secret values with PUT /v1/secrets/... instead"
                )
            }
            let resolved = try config.resolve { () throws(SigilError) in
                throw SigilError(.invalidConfiguration, "the service does not read standard input")
            }
            try requireAdminForRoleChanges(context.caller!, resolved.catalog, state: state)
            let report = try VaultOperations.apply(
                config, resolved: resolved, to: state.vault.acting(as: context.caller!.user.name), dryRun: dryRun)
            return try JSONResponse.make(report)
        }
    }

    /// Roles and the service's settings are the admin's: an operator's file may not change them, nor
    /// change which roles any user has (by adding a user to a group that holds one, say).
    private static func requireAdminForRoleChanges(_ caller: Caller, _ update: Catalog, state: ServiceState) throws {
        guard !caller.has(.admin) else { return }
        if update.roles != nil || update.service != nil {
            throw ServiceError.forbidden("roles: and service: are for admins")
        }
        let stored = try state.vault.storedCatalog()
        let merged = stored.merging(update)
        for user in merged.users {
            let before = stored.user(named: user.name).map { stored.roles(of: $0).roles } ?? []
            if merged.roles(of: user).roles != before {
                throw ServiceError.forbidden(
                    "the file changes the roles of user \(user.name.sanitizedForMessage) (through a group); that is for admins"
                )
            }
        }
    }

    // MARK: Items

    private static func addItems(to routes: inout RouteTable, state: ServiceState) {
        routes.add(.get, "/v1/items", .operator) { _, _ in
            try JSONResponse.make(try CatalogView(vault: state.vault, now: state.clock()))
        }
        routes.add(.get, "/v1/external-credentials/:name", .operator) { _, context in
            let name = try context.parameters.decoded("name")
            guard
                let item = try CatalogView(vault: state.vault, now: state.clock()).externalCredentials.first(where: {
                    $0.name == name
                })
            else {
                throw SigilError(.notFound, "\(ItemRef.externalCredential(name.sanitizedForMessage)) does not exist")
            }
            return try JSONResponse.make(item)
        }
        routes.add(.get, "/v1/named-credentials/:name", .operator) { _, context in
            let name = try context.parameters.decoded("name")
            guard
                let item = try CatalogView(vault: state.vault, now: state.clock()).namedCredentials.first(where: {
                    $0.name == name
                })
            else { throw SigilError(.notFound, "\(ItemRef.namedCredential(name.sanitizedForMessage)) does not exist") }
            return try JSONResponse.make(item)
        }
        let deletions: [(String, @Sendable (Parameters) throws -> ItemRef)] = [
            ("/v1/external-credentials/:name", { .externalCredential(try $0.decoded("name")) }),
            ("/v1/named-credentials/:name", { .namedCredential(try $0.decoded("name")) }),
            ("/v1/principals/:credential/:principal", { .principal(try principal($0)) }),
            ("/v1/users/:name", { .user(try $0.decoded("name")) }),
            ("/v1/groups/:name", { .group(try $0.decoded("name")) }),
            ("/v1/grants/:credential/:principal", { .grant(try principal($0)) }),
            (
                "/v1/authorizations/:credential/:principal/:user",
                {
                    .authorization(try principal($0), user: try $0.decoded("user"))
                }
            ),
        ]
        for (path, item) in deletions {
            routes.add(.delete, path, .operator) { _, context in
                let item = try item(context.parameters)
                try requireAdminToDelete(item, caller: context.caller!, state: state)
                let revocations = try await VaultOperations.delete(
                    item, in: state.vault.acting(as: context.caller!.user.name), engine: state.engine,
                    broker: state.broker)
                return try JSONResponse.make(["deleted": [item.description], "revocations": revocations])
            }
        }
    }

    /// A user or group that holds a role is the admin's to delete (an operator could otherwise
    /// remove the admins).
    private static func requireAdminToDelete(_ item: ItemRef, caller: Caller, state: ServiceState) throws {
        guard !caller.has(.admin) else { return }
        let roles = try state.vault.catalog().roles ?? []
        let holds =
            switch item {
            case .user(let name): roles.contains { $0.subject == .user(name) }
            case .group(let name): roles.contains { $0.subject == .group(name) }
            default: false
            }
        if holds { throw ServiceError.forbidden("\(item) holds a role; deleting it is for admins") }
    }

    private static func principal(_ parameters: Parameters) throws -> PrincipalRef {
        PrincipalRef(
            externalCredential: try parameters.decoded("credential"), principal: try parameters.decoded("principal"))
    }

    // MARK: Secrets

    private static func addSecrets(to routes: inout RouteTable, state: ServiceState) {
        let owners: [(String, @Sendable (Parameters, String?) throws -> SecretOwner)] = [
            (
                "/v1/secrets/principals/:credential/:principal",
                { parameters, user in
                    let reference = try principal(parameters)
                    return user.map { .authorization(reference, user: $0) } ?? .principal(reference)
                }
            ),
            (
                "/v1/secrets/named-credentials/:name",
                { parameters, user in
                    guard user == nil else { throw ServiceError.invalid("user applies to per-user principals") }
                    return .namedCredential(try parameters.decoded("name"))
                }
            ),
        ]
        for (path, owner) in owners {
            routes.add(.get, path, .operator) { request, context in
                let owner = try owner(context.parameters, request.uri.queryParameters["user"].map(String.init))
                return try JSONResponse.make(try state.vault.secretStatuses(of: owner))
            }
            routes.add(.put, path + "/:field", .operator) { request, context in
                var request = request
                let query = request.uri.queryParameters
                let target = SecretTarget(
                    owner: try owner(context.parameters, query["user"].map(String.init)),
                    field: try context.parameters.decoded("field"))
                guard let stage = SecretStage(rawValue: String(query["stage"] ?? "current")), stage != .previous else {
                    throw ServiceError.invalid("stage: expected current or pending")
                }
                var buffer = try await request.collectBody(upTo: 1 << 20)
                let value = buffer.withUnsafeReadableBytes { SecretBytes(copying: $0) }
                _ = buffer.withUnsafeMutableReadableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
                guard !value.isEmpty else { throw ServiceError.invalid("the body (the secret's value) is empty") }
                let version = try VaultOperations.setSecret(
                    target, value: value, stage: stage, in: state.vault.acting(as: context.caller!.user.name))
                return try JSONResponse.make(
                    ["target": target.description, "version": "\(version)", "stage": stage.rawValue])
            }
        }
    }
}
