/*
 * The login page: says why the last attempt failed (the server redirects
 * here with ?error=token or ?error=code) and trims a pasted token, whose
 * trailing newline the server would refuse as a wrong token.
 */
'use strict';

(function () {
	const MESSAGES = {
		token: 'Wrong token.',
		code: 'That login link was used or has expired; run futurectl ui again.',
	};

	function showError() {
		const code = new URLSearchParams(location.search).get('error');
		const box = document.getElementById('login-error');
		if (!box || !code || !Object.prototype.hasOwnProperty.call(MESSAGES, code))
			return;
		box.textContent = MESSAGES[code];
		box.hidden = false;
	}

	function trimOnSubmit() {
		const form = document.getElementById('login-form');
		const input = document.getElementById('login-token');
		if (!form || !input)
			return;
		form.addEventListener('submit', () => {
			input.value = input.value.trim();
		});
	}

	showError();
	trimOnSubmit();
})();
