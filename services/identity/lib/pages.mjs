// The provider's few pages: sign-in, sign-out and errors, in Chinese with English. Nothing is
// loaded from elsewhere (oidc-provider's own default pages fetch a web font from Google).

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; background: #f4f5f7; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 6px;
         box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 1.25rem; margin-top: 0; }
  label { display: block; margin: .75rem 0 .25rem; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
  button { margin-top: 1rem; padding: .5rem 1rem; font-size: 1rem; }
  .error { color: #b00020; }
  .muted { color: #666; font-size: .875rem; }`;

export function renderPage(ctx, { title, body, status = 200 }) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}

export function loginPage(ctx, { uid, clientName, username = '', error, status }) {
  renderPage(ctx, {
    title: '登录 Sign in',
    status,
    body: `<h1>登录 Sign in</h1>
<p class="muted">${escapeHtml(clientName)}</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label for="username">用户名 Username</label>
  <input id="username" name="username" type="text" value="${escapeHtml(username)}"
         autocomplete="username" required autofocus>
  <label for="password">密码 Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">登录 Sign in</button>
</form>
<p><a href="/interaction/${escapeHtml(uid)}/abort">取消 Cancel</a></p>`,
  });
}

// oidc-provider hands over the form (with its anti-forgery field); the buttons submit it.
export function logoutPage(ctx, form) {
  renderPage(ctx, {
    title: '退出登录 Sign out',
    body: `<h1>退出登录？ Sign out?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">退出 Sign out</button>
<button type="submit" form="op.logoutForm">保持登录 Stay signed in</button>`,
  });
}

export function signedOutPage(ctx) {
  renderPage(ctx, { title: '已退出 Signed out', body: '<h1>已退出登录 You are signed out</h1>' });
}

export function errorPage(ctx, out) {
  renderPage(ctx, {
    title: '出错了 Something went wrong',
    status: ctx.status,
    body: `<h1>出错了 Something went wrong</h1>
${Object.entries(out).map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`).join('\n')}`,
  });
}
