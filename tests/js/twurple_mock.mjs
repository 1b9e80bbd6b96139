// @twurple/api in its mock mode, against the streamcensus simulator.
//
// twurple's mock mode is one environment variable, TWURPLE_MOCK_API_PORT: with it set,
// @twurple/api-call sends Helix calls to http://localhost:PORT/mock/<path> and auth
// calls to http://localhost:PORT/auth/<path>, as for Twitch's CLI mock server. Nothing
// else changes: the client's pagination, rate limiting, token handling and refresh are
// its own. This script does what a user of that mode does, prints what it saw as one
// JSON object on stdout, and exits 1 with the error on stderr if a call fails unexpectedly.
// The pytest test (tests/simulator/test_twurple_mock.py) checks the answers.

import { ApiClient } from '@twurple/api';
import { RefreshingAuthProvider } from '@twurple/auth';

const port = process.env.TWURPLE_MOCK_API_PORT;
if (!port) {
	console.error('set TWURPLE_MOCK_API_PORT to the simulator port');
	process.exit(2);
}
const base = `http://localhost:${port}`;
const operatorId = process.env.OPERATOR_ID ?? '500';
const broadcasterId = process.env.BROADCASTER_ID ?? '1';
const forbiddenId = process.env.FORBIDDEN_ID ?? '7';
const loginsToFind = (process.env.LOGINS ?? 'charlie_en,viewer_1002').split(',');

async function json(response) {
	if (!response.ok) {
		throw new Error(`${response.url}: HTTP ${response.status} ${await response.text()}`);
	}
	return response.json();
}

// The mock server's clients list: where a mock-mode user reads its client id and secret.
const clients = await json(await fetch(`${base}/units/clients`));
const { ID: clientId, Secret: clientSecret } = clients.data[0];

// A user token from the mock server's /auth/authorize (grant_type=user_token).
const scope = 'moderator:read:chatters user:read:moderated_channels';
const query = new URLSearchParams({
	client_id: clientId,
	client_secret: clientSecret,
	grant_type: 'user_token',
	user_id: operatorId,
	scope,
});
const grant = await json(await fetch(`${base}/auth/authorize?${query}`, { method: 'POST' }));

const authProvider = new RefreshingAuthProvider({ clientId, clientSecret });
let refreshed = 0;
authProvider.onRefresh(() => {
	refreshed += 1;
});
// addUserForToken validates the token (GET /auth/validate) to learn whose it is
const tokenUser = await authProvider.addUserForToken({
	accessToken: grant.access_token,
	refreshToken: grant.refresh_token || null,
	expiresIn: null,
	obtainmentTimestamp: 0,
	scope: grant.scope,
});
const api = new ApiClient({ authProvider });
const report = { clientIdLength: clientId.length, tokenUser, grantScope: grant.scope };

// Get Streams with the app token: by hand, 2 per page following the cursor ...
const pages = [];
let cursor;
do {
	const page = await api.streams.getStreams({ language: 'fr', limit: 2, after: cursor });
	pages.push(page.data.map(s => s.userName));
	cursor = page.cursor;
} while (cursor && pages.length < 50);
report.streamPages = pages;
// ... and with the client's own paginator (100 per page)
const all = await api.streams.getStreamsPaginated({ language: 'fr' }).getAll();
report.streams = all.map(s => ({
	id: s.id,
	userId: s.userId,
	userName: s.userName,
	viewers: s.viewers,
	gameName: s.gameName,
	startDate: s.startDate.toISOString(),
	tags: s.tags,
	isMature: s.isMature,
}));

// Get Users, by login and by id
const users = await api.users.getUsersByNames(loginsToFind);
report.users = users.map(u => ({ id: u.id, name: u.name, displayName: u.displayName }));
const byId = await api.users.getUserById(broadcasterId);
report.userById = byId ? { id: byId.id, name: byId.name } : null;

// With the operator's user token: chat lists, moderated channels, follower totals
report.chatters = await api.asUser(operatorId, async ctx => {
	const first = await ctx.chat.getChatters(broadcasterId, { limit: 1000 });
	const every = await ctx.chat.getChattersPaginated(broadcasterId).getAll();
	return { total: first.total, firstPage: first.data.length, ids: every.map(c => c.userId) };
});
try {
	await api.asUser(operatorId, ctx => ctx.chat.getChatters(forbiddenId));
	report.forbidden = 'allowed';
} catch (error) {
	report.forbidden = error.statusCode ?? String(error);
}
const moderated = await api.moderation.getModeratedChannelsPaginated(operatorId).getAll();
report.moderated = moderated.map(c => c.id);
report.followers = await api.asUser(operatorId, ctx =>
	ctx.channels.getChannelFollowerCount(broadcasterId),
);

// The user token expires on the simulated clock: the client refreshes it by itself
const clock = await json(
	await fetch(`${base}/_sim/clock`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ advance: 5 * 3600 }),
	}),
);
report.clockAdvancedTo = clock.now ?? clock;
const after = await api.asUser(operatorId, ctx => ctx.chat.getChatters(broadcasterId, { limit: 1 }));
report.afterExpiry = { total: after.total, refreshed };

console.log(JSON.stringify(report));
