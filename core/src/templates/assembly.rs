//! CDK cloud assemblies (`cdk.out`): which templates `manifest.json` lists,
//! and which nested assemblies (Stages) to follow. Reading the files is the
//! caller's; this reads the manifest.

use super::node::Node;

/// What a manifest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// A stack's template file, relative to the assembly directory.
    Template { stack: String, file: String },
    /// A nested assembly (a Stage), a directory relative to this one.
    Assembly { directory: String },
}

/// Whether a document is a cloud assembly's manifest.
pub fn is_manifest(root: &Node) -> bool {
    root.get("artifacts").is_some() && root.get("version").is_some()
}

/// The stacks and nested assemblies a manifest lists, in its order.
pub fn artifacts(manifest: &Node) -> Vec<Artifact> {
    let mut out = Vec::new();
    for (key, artifact) in manifest
        .get("artifacts")
        .map(Node::members)
        .unwrap_or_default()
    {
        let properties = artifact.get("properties");
        let property = |name: &str| properties.and_then(|p| p.get(name)).and_then(Node::as_str);
        match artifact.get("type").and_then(Node::as_str) {
            Some("aws:cloudformation:stack") => {
                if let Some(file) = property("templateFile") {
                    out.push(Artifact::Template {
                        stack: key.text.clone(),
                        file: file.to_string(),
                    });
                }
            }
            Some("cdk:cloud-assembly") => {
                if let Some(directory) = property("directoryName") {
                    out.push(Artifact::Assembly {
                        directory: directory.to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}
