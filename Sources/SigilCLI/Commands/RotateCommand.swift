import ArgumentParser
import Foundation
import SigilCore
import SigilModel
import SigilOperations
import SigilStore
import SigilTokens

/// `sigil rotate start|test|finish|rollback|cleanup|status|run OWNER`.
struct RotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Rotate a secret without downtime: start, test, finish, roll back, clean up.",
        discussion: """
            A rotation takes the steps AWS Secrets Manager made familiar. start stores the new value \
            as pending (read from standard input, or made by Sigil with --generate); test uses it for \
            real (an OAuth 2.0 client secret or key at the token endpoint, and --request when given); \
            finish makes pending current and current previous, for every request at once; rollback \
            makes previous current again; cleanup deletes previous after the grace period. Each step \
            is recorded and audited: run twice, a step does nothing the second time, and `run` \
            resumes an interrupted rotation where it stopped. OWNER is EC/PRINCIPAL (with --user, \
            that user's authorization) or named-credential:NAME.
            """,
        subcommands: [
            Start.self, Test.self, Finish.self, Rollback.self, Cleanup.self, Status.self, Run.self, Due.self,
        ]
    )

    struct OwnerOptions: ParsableArguments {
        @Argument(help: "EC/PRINCIPAL or named-credential:NAME.")
        var owner: String

        @Option(help: "The user whose authorization of a per-user principal holds the secret.")
        var user: String?

        func parsed() throws -> SecretOwner {
            if owner.hasPrefix("named-credential:"), user != nil {
                throw ValidationError("--user applies to per-user principals, not named credentials")
            }
            guard let parsed = SecretOwner(parsing: owner, user: user) else {
                throw ValidationError(
                    "OWNER must be EC/PRINCIPAL or named-credential:NAME, not \(owner.sanitizedForMessage)")
            }
            return parsed
        }
    }

    struct ValueOptions: ParsableArguments {
        @Option(help: "The secret field to rotate (default: the policy's, else the owner's only stored field).")
        var field: String?

        @Flag(help: "Let Sigil make the new value instead of reading it from standard input.")
        var generate = false

        @Option(help: "Length of a generated value (16 to 4096; default: the policy's, else 40).")
        var length: Int?

        @Option(help: "Characters a generated value is drawn from (default: the policy's, else letters and digits).")
        var alphabet: String?

        /// The new value: generated (with --generate, --length or --alphabet), else what the
        /// owner's rotation policy makes (``Rotation/automaticValue(_:)``), else read from standard
        /// input.
        func newValue(for owner: SecretOwner, policy: RotationPolicy?) throws -> Rotation.NewValue {
            if generate || length != nil || alphabet != nil {
                return .generated(
                    length: length ?? policy?.length ?? Rotation.NewValue.defaultLength,
                    alphabet: alphabet ?? policy?.alphabet ?? Rotation.NewValue.defaultAlphabet)
            }
            if let automatic = Rotation.automaticValue(policy) { return automatic }
            return .supplied(
                try SecretBytes.prompted(
                    "New value for \(owner)\(field.map { " \($0)" } ?? "")", purpose: "the new value of \(owner)",
                    stdin: StandardInput()))
        }
    }

    struct TestOptions: ParsableArguments {
        @Option(help: "A request sent with the pending value as the test (default: the policy's testRequest).")
        var request: String?

        @Option(help: "The request's method.")
        var method = "GET"

        @Option(help: "Statuses that count as success, comma-separated.")
        var expect = "200"

        /// `--request`, else the policy's `testRequest`.
        func testRequest(policy: RotationPolicy?) throws -> Rotation.TestRequest? {
            guard let request else { return policy?.testRequest.map(Rotation.TestRequest.init) }
            let statuses = expect.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let parsed = statuses.compactMap { Int($0) }.filter { (100...599).contains($0) }
            guard !parsed.isEmpty, parsed.count == statuses.count else {
                throw ValidationError("--expect: HTTP statuses separated by commas, such as 200,204")
            }
            return Rotation.TestRequest(url: request, method: method.uppercased(), expect: Set(parsed))
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start", abstract: "Store the new value as pending.")
        @OptionGroup var options: VaultOptions
        @OptionGroup var owner: OwnerOptions
        @OptionGroup var value: ValueOptions

        func run() async throws {
            let owner = try owner.parsed()
            let started = try await EngineSession.with(options) { session in
                let policy = try Rotation.policy(of: owner, in: session.vault)
                return try await Rotation.start(
                    owner, field: value.field ?? policy?.field, value: try value.newValue(for: owner, policy: policy),
                    in: session.vault, broker: session.broker)
            }
            print(
                started ? "Started the rotation of \(owner): the new value is pending." : "Already started: \(owner).")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test", abstract: "Use the pending value for real.")
        @OptionGroup var options: VaultOptions
        @OptionGroup var owner: OwnerOptions
        @OptionGroup var test: TestOptions

        func run() async throws {
            let owner = try owner.parsed()
            let proved = try await EngineSession.with(options) { session in
                let request = try test.testRequest(policy: try Rotation.policy(of: owner, in: session.vault))
                return try await Rotation.test(owner, request: request, in: session.vault, broker: session.broker)
            }
            print("Tested the pending value of \(owner): \(proved.joined(separator: "; ")).")
        }
    }

    struct Finish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "finish", abstract: "Make the tested value current.")
        @OptionGroup var options: VaultOptions
        @OptionGroup var owner: OwnerOptions

        func run() async throws {
            let owner = try owner.parsed()
            let finished = try await EngineSession.with(options) { session in
                try await Rotation.finish(owner, in: session.vault, broker: session.broker)
            }
            print(
                finished
                    ? "Finished: the new value of \(owner) is current; the old one is previous."
                    : "Already finished: \(owner).")
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rollback", abstract: "Undo the rotation.")
        @OptionGroup var options: VaultOptions
        @OptionGroup var owner: OwnerOptions

        func run() async throws {
            let owner = try owner.parsed()
            let done = try await EngineSession.with(options) { session in
                try await Rotation.rollBack(owner, in: session.vault, broker: session.broker)
            }
            print(done ? "Rolled back the rotation of \(owner)." : "Already rolled back: \(owner).")
        }
    }

    struct Cleanup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cleanup", abstract: "Delete the previous value after the grace period.")
        @OptionGroup var options: VaultOptions
        @OptionGroup var owner: OwnerOptions

        @Option(
            help:
                "How long after finish the previous value is kept: 7d, 12h, 30m or 0 (default: the policy's, else 7d).")
        var grace: String?

        func run() async throws {
            let owner = try owner.parsed()
            let cleaned = try await EngineSession.with(options) { session in
                let grace = try RotateCommand.grace(grace, policy: try Rotation.policy(of: owner, in: session.vault))
                return try await Rotation.cleanUp(owner, grace: grace, in: session.vault, broker: session.broker)
            }
            print(
                cleaned
                    ? "Cleaned up: the previous value of \(owner) is deleted." : "Nothing to clean up for \(owner) now."
            )
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Where the rotation stands.")
        @OptionGroup var options: VaultOptions
        @OptionGroup var owner: OwnerOptions

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let owner = try owner.parsed()
            guard let state = try options.open().rotation(of: owner) else {
                if json {
                    try Output.json(["owner": owner.description, "step": "none"])
                } else {
                    print("\(owner): no rotation was started.")
                }
                return
            }
            if json {
                try Output.json(state)
                return
            }
            var line =
                "\(owner): \(state.step.rawValue) (\(state.fields.joined(separator: ", ")), \(state.rotator)); started \(state.startedAt)"
            if let tested = state.testedAt { line += ", tested \(tested)" }
            if let finished = state.finishedAt { line += ", finished \(finished)" }
            if let error = state.lastError { line += "; last test failed: \(error)" }
            print(line)
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Every step, from where the rotation stands: start, test, finish (and clean up with --grace 0).")
        @OptionGroup var options: VaultOptions
        @OptionGroup var owner: OwnerOptions
        @OptionGroup var value: ValueOptions
        @OptionGroup var test: TestOptions

        @Option(help: "Clean up at once with 0; otherwise `sigil rotate cleanup` after the grace period.")
        var grace: String?

        func run() async throws {
            let owner = try owner.parsed()
            let steps = try await EngineSession.with(options) { session in
                let policy = try Rotation.policy(of: owner, in: session.vault)
                let inProgress = try session.vault.rotation(of: owner)?.inProgress == true
                return try await Rotation.run(
                    owner, field: value.field ?? policy?.field,
                    value: inProgress ? nil : try value.newValue(for: owner, policy: policy),
                    request: try test.testRequest(policy: policy),
                    grace: try RotateCommand.grace(grace, policy: policy), in: session.vault, broker: session.broker)
            }
            print(steps.isEmpty ? "Nothing to do for \(owner)." : "Rotated \(owner): \(steps.joined(separator: ", ")).")
        }
    }

    /// `--grace` (`7d`, `12h`, `30m`, `45s` or `0`), else the policy's, else 7 days; in seconds.
    static func grace(_ text: String?, policy: RotationPolicy?) throws -> TimeInterval {
        guard let text else { return TimeInterval(policy?.grace ?? RotationPolicy.defaultGrace) }
        guard let seconds = RotationPolicy.seconds(text) else {
            throw ValidationError("--grace \(text.sanitizedForMessage): expected a duration such as 7d, 12h, 30m or 0")
        }
        return TimeInterval(seconds)
    }

    struct Due: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "due",
            abstract: "List the principals whose rotation policy says their secret is due; with --run, rotate them.",
            discussion: """
                A principal's policy is the apply file's rotation: on it, else on its external \
                credential. With --run, each due principal whose rotator makes values (all but \
                manual) is rotated (start, test with the policy's testRequest, finish), rotations cut \
                short are resumed, and old values past their grace period are retired; a manual one \
                is listed with the command that takes its value.
                """)
        @OptionGroup var options: VaultOptions

        @Flag(name: .customLong("run"), help: "Rotate the due principals whose rotator makes values, and clean up.")
        var runDue = false

        @Flag(help: "Print the list as JSON.")
        var json = false

        func run() async throws {
            try await EngineSession.with(options) { session in
                let entries = try Rotation.due(in: session.vault)
                if json && !runDue {
                    try Output.json(entries)
                    return
                }
                for entry in entries {
                    let when = entry.dueAt.map { (entry.due ? "due since " : "due ") + $0 } ?? "-"
                    print(
                        "\(entry.owner)\(entry.field.map { " \($0)" } ?? "")  \(entry.rotator)  \(when)\(entry.note.map { "  (\($0))" } ?? "")"
                    )
                }
                guard runDue else { return }
                let holder = LeaseHolder.current()
                for outcome in try await Rotation.runDue(in: session.vault, broker: session.broker, holder: holder) {
                    print("\(outcome.owner): \(outcome.result)")
                }
            }
        }
    }
}
