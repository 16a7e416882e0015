import SigilModel

@testable import SigilConfig

/// `config`: the file `sigil apply -f` reads, as YAML and as JSON (the same bytes both ways), then
/// the model's rules on the result. On a file that passes, the export round trip must hold (README:
/// applying `sigil export`'s output changes nothing): the catalog written and read back is equal.
/// References are not resolved (they read files and the environment).
enum ConfigTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let text = input.text
        for json in [false, true] {
            let file: ConfigFile
            do {
                file = try ConfigFile(
                    text: text, fileName: json ? "fuzz.json" : "fuzz.yaml", baseDirectory: "/nonexistent")
            } catch {
                continue
            }
            _ = file.readsStandardInput
            guard file.problems(in: Catalog()) == nil else { continue }
            // Identities given by reference are filled in at apply; their placeholders do not export.
            guard file.certificateReferences.isEmpty, file.caBundleReferences.isEmpty, file.pkcs12References.isEmpty
            else { continue }
            for exportJSON in [false, true] {
                let exported: String
                do {
                    exported = try ConfigExport.text(of: file.catalog, json: exportJSON)
                } catch {
                    FuzzCheck.fail("a valid catalog cannot be exported (\(exportJSON ? "JSON" : "YAML")): \(error)")
                }
                let again: ConfigFile
                do {
                    again = try ConfigFile(text: exported, fileName: exportJSON ? "export.json" : "export.yaml")
                } catch {
                    FuzzCheck.fail(
                        "the export (\(exportJSON ? "JSON" : "YAML")) of a valid catalog does not read back: \(error)")
                }
                if again.catalog != file.catalog {
                    FuzzCheck.fail("the export (\(exportJSON ? "JSON" : "YAML")) reads back as another catalog")
                }
            }
        }
    }
}
