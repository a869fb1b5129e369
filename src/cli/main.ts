#!/usr/bin/env node
console.log("ffvm");
