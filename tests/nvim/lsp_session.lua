-- A headless Neovim session with `tq lsp` (tests/lsp.rs runs it): open a problem file,
-- wait for its diagnostics, hover on a tensor, wait for the claims' inlay hints, then
-- introduce an error and wait for its diagnostic. Works with Neovim 0.7 (Debian 12)
-- and later: the client is started with vim.lsp.start_client and attached by hand.
-- Inputs: TQ_BIN (the tq binary), TQ_FILE (the .tq file), TQ_OUT (the results file).
-- Output: one `key<TAB>value` line per result; `done<TAB>ok` last, or `error<TAB>...`.

local out = {}
local function put(k, v)
  out[#out + 1] = k .. '\t' .. tostring(v):gsub('\n', '\\n')
end

local function main()
  local file = vim.env.TQ_FILE
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = 'tq'

  -- Count the diagnostics notifications as they arrive (then hand them to Neovim).
  local published = {}
  local default = vim.lsp.handlers['textDocument/publishDiagnostics']
  vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
    published[#published + 1] = result
    return default(err, result, ctx, config)
  end

  local id = vim.lsp.start_client({
    name = 'tq',
    cmd = { vim.env.TQ_BIN, 'lsp' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
  })
  assert(id, 'the client did not start')
  vim.lsp.buf_attach_client(buf, id)
  assert(vim.wait(20000, function() return #published > 0 end, 20), 'no diagnostics')
  put('initial_diagnostics', #published[1].diagnostics)

  local uri = vim.uri_from_bufnr(buf)
  -- Hover on the first `L_l` of the line `L_{l+1}[b,x,y,j] = L_l[b,x,y,j] + ...`.
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local row, col
  for i, l in ipairs(lines) do
    local s = l:find('= L_l[', 1, true)
    if s and l:find('L_{l+1}[b,x,y,j] =', 1, true) then
      row, col = i - 1, s + 2
      break
    end
  end
  assert(row, 'no forward statement found')
  local hover
  assert(vim.wait(120000, function()
    local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover',
      { textDocument = { uri = uri }, position = { line = row, character = col } }, 10000)
    local r = res and res[id] and res[id].result
    hover = r and r.contents and r.contents.value or ''
    return hover:find('gradient', 1, true) ~= nil
  end, 200), 'hover without the gradient: ' .. tostring(hover))
  put('hover', hover)

  -- The claims' verdicts as inlay hints, once decided.
  local hints
  assert(vim.wait(600000, function()
    local res = vim.lsp.buf_request_sync(buf, 'textDocument/inlayHint', {
      textDocument = { uri = uri },
      range = { start = { line = 0, character = 0 }, ['end'] = { line = #lines, character = 0 } },
    }, 10000)
    hints = res and res[id] and res[id].result or {}
    if #hints == 0 then return false end
    for _, h in ipairs(hints) do
      if h.label:find('deciding', 1, true) then return false end
    end
    return true
  end, 500), 'the claims were not decided')
  put('hints', #hints)
  for _, h in ipairs(hints) do
    put('hint', (h.position.line + 1) .. ' ' .. h.label)
  end

  -- Break a statement (a rank error): the diagnostic arrives.
  for i, l in ipairs(lines) do
    local s, e = l:find("W_{l+1}[dx,dy,j',j]", 1, true)
    if s then
      local broken = l:sub(1, s - 1) .. "W_{l+1}[dx,dy,j']" .. l:sub(e + 1)
      vim.api.nvim_buf_set_lines(buf, i - 1, i, false, { broken })
      put('broken_line', i)
      break
    end
  end
  assert(vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20), 'no error diagnostic')
  local d = vim.diagnostic.get(buf)[1]
  put('error', (d.lnum + 1) .. ' ' .. tostring(d.code) .. ' ' .. d.message)
  vim.lsp.stop_client(id)
end

local ok, err = pcall(main)
if ok then put('done', 'ok') else put('error', err) end
local f = io.open(vim.env.TQ_OUT, 'w')
f:write(table.concat(out, '\n') .. '\n')
f:close()
vim.cmd('qa!')
