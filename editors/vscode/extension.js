// The tq extension: starts `tq lsp` (the binary named by the `tq.path` setting) for
// .tq files and hands it to VS Code's language client.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('tq');
  const command = config.get('path') || 'tq';
  const seed = String(config.get('seed') || 0);
  const server = { command, args: ['lsp', '--seed', seed] };
  client = new LanguageClient(
    'tq',
    'tq language server',
    { run: server, debug: server },
    { documentSelector: [{ language: 'tq' }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
