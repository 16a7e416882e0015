import Foundation
import SigilCore
import SigilModel
import SigilStore
import SigilTestSupport
import Testing

@Suite("Rotation steps in the vault: recorded, idempotent, atomic, reversible")
struct RotationTests {
    static let owner = SecretOwner.principal(billingRef)

    static func vault(_ store: TestStore) throws -> Vault {
        let (vault, _, _) = try makeVault(store)
        try vault.apply(exampleRequest(apiKey: "old-key"))
        return vault
    }

    static func value(_ vault: Vault, _ stage: SecretStage) throws -> String? {
        try vault.secret(apiKeyTarget, stage: stage)?.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test(
        "start, test, finish: pending becomes current, current previous; each step twice changes nothing",
        arguments: TestStore.all)
    func forward(store: TestStore) throws {
        let vault = try Self.vault(store)
        #expect(try vault.rotation(of: Self.owner) == nil)
        #expect(
            try vault.startRotation(Self.owner, values: ["apiKey": SecretBytes(utf8: "new-key")], rotator: "supplied"))
        #expect(try Self.value(vault, .pending) == "new-key")
        #expect(try Self.value(vault, .current) == "old-key")
        // Started again with the same value: nothing; with another value while in progress: refused.
        #expect(
            !(try vault.startRotation(Self.owner, values: ["apiKey": SecretBytes(utf8: "new-key")], rotator: "supplied"))
        )
        let busy = #expect(throws: SigilError.self) {
            try vault.startRotation(Self.owner, values: ["apiKey": SecretBytes(utf8: "other")], rotator: "supplied")
        }
        #expect(busy?.code == .rotationState && busy?.reason.contains("in progress") == true)
        #expect(!(busy?.reason.contains("other") ?? true))

        // Not tested: not finished.
        let untested = #expect(throws: SigilError.self) { try vault.finishRotation(Self.owner) }
        #expect(untested?.reason.contains("sigil rotate test") == true)
        try vault.recordRotationTest(Self.owner, error: "the provider said no")
        #expect(try vault.rotation(of: Self.owner)?.lastError == "the provider said no")
        #expect(try vault.rotation(of: Self.owner)?.step == .started)
        try vault.recordRotationTest(Self.owner, error: nil)
        let tested = try #require(try vault.rotation(of: Self.owner))
        #expect(tested.step == .tested && tested.lastError == nil && tested.testedAt != nil)

        #expect(try vault.finishRotation(Self.owner))
        #expect(try Self.value(vault, .current) == "new-key")
        #expect(try Self.value(vault, .previous) == "old-key")
        #expect(try Self.value(vault, .pending) == nil)
        #expect(!(try vault.finishRotation(Self.owner)))
        #expect(try Self.value(vault, .current) == "new-key")
        #expect(try vault.rotation(of: Self.owner)?.step == .finished)

        // Clean-up waits for the grace period, then deletes previous; a cleaned rotation cannot roll back.
        #expect(!(try vault.cleanUpRotation(Self.owner, finishedBefore: Date().addingTimeInterval(-3600))))
        #expect(try Self.value(vault, .previous) == "old-key")
        #expect(try vault.cleanUpRotation(Self.owner, finishedBefore: Date().addingTimeInterval(1)))
        #expect(try Self.value(vault, .previous) == nil)
        #expect(try vault.rotation(of: Self.owner)?.step == .cleaned)
        #expect(throws: SigilError.self) { try vault.rollBackRotation(Self.owner) }

        let actions = try vault.auditEntries(matching: AuditFilter(action: "rotation")).map(\.action)
        #expect(
            actions == [
                "rotation.start", "rotation.test-failed", "rotation.test", "rotation.finish", "rotation.clean-up",
            ])
        #expect(try vault.verifyCatalog().isEmpty)
    }

    @Test(
        "roll back before finish drops pending; after finish previous is current again; a new rotation follows",
        arguments: TestStore.all)
    func rollBack(store: TestStore) throws {
        let vault = try Self.vault(store)
        try vault.startRotation(Self.owner, values: ["apiKey": SecretBytes(utf8: "bad-key")], rotator: "supplied")
        #expect(try vault.rollBackRotation(Self.owner))
        #expect(try Self.value(vault, .pending) == nil)
        #expect(try Self.value(vault, .current) == "old-key")
        #expect(!(try vault.rollBackRotation(Self.owner)))
        #expect(throws: SigilError.self) { try vault.finishRotation(Self.owner) }

        try vault.startRotation(Self.owner, values: ["apiKey": SecretBytes(utf8: "new-key")], rotator: "supplied")
        try vault.recordRotationTest(Self.owner, error: nil)
        try vault.finishRotation(Self.owner)
        #expect(try vault.rollBackRotation(Self.owner))
        #expect(try Self.value(vault, .current) == "old-key")
        #expect(try Self.value(vault, .previous) == nil)
        #expect(try vault.rotation(of: Self.owner)?.step == .rolledBack)
        #expect(try vault.verifyCatalog().isEmpty)
    }

    @Test("a rotation goes with its owner", arguments: TestStore.all)
    func deletedOwner(store: TestStore) throws {
        let vault = try Self.vault(store)
        try vault.startRotation(Self.owner, values: ["apiKey": SecretBytes(utf8: "new-key")], rotator: "supplied")
        try vault.delete(.principal(billingRef))
        #expect(try vault.verifyCatalog().isEmpty)
        #expect(throws: Never.self) { try vault.snapshot() }
    }

    @Test(
        "the rotation lease: one holder at a time; a holder whose lease was taken over takes no step",
        arguments: TestStore.all)
    func rotationLease(store: TestStore) throws {
        let (vault, _, _) = try makeVault(store)
        try vault.apply(exampleRequest(apiKey: "lease-value-1"))
        let owner = apiKeyTarget.owner
        let first = try #require(try vault.acquireRotationLease(owner, holder: "first", duration: 600).lease)
        #expect(
            try vault.acquireRotationLease(owner, holder: "second", duration: 600)
                == .held(holder: "first", until: first.until))
        // A holder known to be gone (a process of this machine that no longer runs) is taken over.
        let takenOver = try #require(
            try vault.acquireRotationLease(owner, holder: "second", duration: 600, takingOverFrom: "first").lease)
        #expect(takenOver.fence > first.fence)
        _ = try vault.acquireRotationLease(owner, holder: "first", duration: 600, takingOverFrom: "second")
        // The same holder may renew; a lapsed lease goes to the next asker, with a higher fence.
        let renewed = try #require(try vault.acquireRotationLease(owner, holder: "first", duration: 0).lease)
        #expect(renewed.fence > first.fence)
        let second = try #require(try vault.acquireRotationLease(owner, holder: "second", duration: 600).lease)
        #expect(second.fence > renewed.fence)
        let error = #expect(throws: SigilError.self) {
            try vault.fenced(by: renewed).startRotation(
                owner, values: [apiKeyTarget.field: SecretBytes(utf8: "lease-value-2")], rotator: "supplied")
        }
        #expect(error?.code == .rotationState && error?.reason.contains("taken over") == true)
        #expect(try vault.rotation(of: owner) == nil)
        #expect(
            try vault.fenced(by: second).startRotation(
                owner, values: [apiKeyTarget.field: SecretBytes(utf8: "lease-value-2")], rotator: "supplied"))
        try vault.releaseRotationLease(second)
        #expect(try vault.acquireRotationLease(owner, holder: "third", duration: 600).lease != nil)
    }
}
