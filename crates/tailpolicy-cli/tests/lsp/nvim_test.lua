-- End-to-end test in Neovim's built-in LSP client (Neovim 0.7+, headless): attach
-- `tailpolicy lsp` to the open policy, wait for its diagnostics, ask for a hover, and
-- write what Neovim received to $NVIM_TEST_OUT, one line each. scripts/lsp-tests.sh
-- runs it and checks the lines.
local bin = os.getenv("TAILPOLICY_BIN")
local out = os.getenv("NVIM_TEST_OUT")
local buf = vim.api.nvim_get_current_buf()
vim.bo[buf].filetype = "jsonc"
local client = vim.lsp.start_client({ name = "tailpolicy", cmd = { bin, "lsp" }, root_dir = vim.fn.getcwd() })
vim.lsp.buf_attach_client(buf, client)
local lines = {}
vim.wait(15000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or ""
  local message = d.message:gsub("\n.*", "")
  table.insert(lines, string.format("diagnostic %d:%d %s %s", d.lnum, d.col, code, message))
end
local params = {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  position = { line = tonumber(os.getenv("HOVER_LINE")), character = tonumber(os.getenv("HOVER_CHARACTER")) },
}
local responses = vim.lsp.buf_request_sync(buf, "textDocument/hover", params, 10000)
for _, response in pairs(responses or {}) do
  if response.result then
    local value = response.result.contents.value:gsub("\n", " ")
    table.insert(lines, "hover " .. value)
  end
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(client)
vim.cmd("qa!")
