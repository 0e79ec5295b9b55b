// Starts `tailpolicy lsp` for `.hujson` files; everything else is the server's.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("tailpolicy").get("path", "tailpolicy");
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "tailpolicy",
    "tailpolicy",
    { run: server, debug: server },
    {
      // Policies are `*.hujson`; VS Code highlights them as JSONC (files.associations).
      documentSelector: [{ scheme: "file", pattern: "**/*.hujson" }],
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher("**/{tailpolicy.toml,*.json}"),
      },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
