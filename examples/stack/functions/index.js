// One HTTP function, so the Functions emulator has something to load.
const { onRequest } = require("firebase-functions/v2/https");

exports.hello = onRequest((request, response) => {
  response.json({ hello: "from the functions emulator" });
});
