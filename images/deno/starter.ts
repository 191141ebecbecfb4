const name: string = "world";
console.log(`Hello, ${name}!`);
