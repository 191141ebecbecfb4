const name = require("fs").readFileSync(0, "utf8").trim() || "world";
console.log(`Hello, ${name}!`);
